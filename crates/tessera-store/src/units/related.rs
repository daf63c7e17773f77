//! The related objects units show beside their object (JSON:API's `included`): what a caller may
//! ask for, and what it gets. The units that read them are in the modules of their object
//! (`inquiries::show`, `share_tokens::show`, …).

pub use crate::ops::related::{InquiryIncludes, Related, ShareTokenIncludes};
