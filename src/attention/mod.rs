//! Attention: who needs a person now, across every watched context. [`inbox`] ranks the
//! rollouts that need someone (pure); [`transitions`] says when something newly needs
//! someone, once; [`desktop`] and [`webhook`] tell people about it.

pub mod desktop;
pub mod fleet_verdicts;
pub mod inbox;
pub mod transitions;
pub mod webhook;

pub use inbox::{Evidence, InboxRow, Judgement, Need, NeedKind, inbox};
pub use transitions::{Notice, NoticeKind, NotifySettings, Transitions};
