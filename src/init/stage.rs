//! What ends of a stage script mean, as runit(8) of 2.3.0 says (all OSes).

use crate::fail::exit;

/// One of the three stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    One,
    Two,
    Three,
}

impl Stage {
    /// The script's path.
    pub fn path(self) -> &'static str {
        let [one, two, three] = super::files::STAGES;
        match self {
            Stage::One => one,
            Stage::Two => two,
            Stage::Three => three,
        }
    }
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// exit(code).
    Exit(i32),
    /// Killed by this signal ("crashed" in runit's words).
    Crash(i32),
}

/// What comes after a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The following stage (after stage 3: halt or reboot).
    Following,
    /// Stage 1 crashed or exited 100: straight to stage 3.
    SkipStage2,
    /// Stage 2 crashed or exited 111: kill its process group, pause, run it again. runit
    /// 2.1.2 went to stage 3 on a crash instead (it tested the exit code only); 2.3.0 fixed it.
    RestartStage2,
}

/// The rule of runit(8).
pub fn next(stage: Stage, ended: Ended) -> Next {
    match (stage, ended) {
        (Stage::One, Ended::Crash(_)) => Next::SkipStage2,
        (Stage::One, Ended::Exit(code)) if code == exit::STAGE1_TO_STAGE3 => Next::SkipStage2,
        (Stage::Two, Ended::Crash(_)) => Next::RestartStage2,
        (Stage::Two, Ended::Exit(code)) if code == exit::STAGE2_AGAIN => Next::RestartStage2,
        (Stage::One | Stage::Two | Stage::Three, Ended::Exit(_) | Ended::Crash(_)) => {
            Next::Following
        }
    }
}

/// The warning C runit prints before acting on a stage that did not exit 0, if any.
pub fn complaint(ended: Ended) -> Option<&'static str> {
    match ended {
        Ended::Exit(0) => None,
        Ended::Exit(_) => Some("child failed: "),
        Ended::Crash(_) => Some("child crashed: "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_one_skips_stage_two_on_crash_or_100() {
        assert_eq!(next(Stage::One, Ended::Crash(11)), Next::SkipStage2);
        assert_eq!(next(Stage::One, Ended::Exit(100)), Next::SkipStage2);
        assert_eq!(next(Stage::One, Ended::Exit(1)), Next::Following);
        assert_eq!(next(Stage::One, Ended::Exit(111)), Next::Following);
        assert_eq!(next(Stage::One, Ended::Exit(0)), Next::Following);
    }

    #[test]
    fn stage_two_restarts_on_crash_or_111() {
        assert_eq!(next(Stage::Two, Ended::Crash(9)), Next::RestartStage2);
        assert_eq!(next(Stage::Two, Ended::Exit(111)), Next::RestartStage2);
        assert_eq!(next(Stage::Two, Ended::Exit(100)), Next::Following);
        assert_eq!(next(Stage::Two, Ended::Exit(0)), Next::Following);
    }

    #[test]
    fn stage_three_always_ends_the_system() {
        assert_eq!(next(Stage::Three, Ended::Crash(6)), Next::Following);
        assert_eq!(next(Stage::Three, Ended::Exit(111)), Next::Following);
    }

    #[test]
    fn only_a_clean_exit_goes_without_complaint() {
        assert_eq!(complaint(Ended::Exit(0)), None);
        assert_eq!(complaint(Ended::Exit(3)), Some("child failed: "));
        assert_eq!(complaint(Ended::Crash(11)), Some("child crashed: "));
    }
}
