//! CustomResourceDefinitions: the definitions themselves (defaulting, validation, the
//! versions they serve) and their custom resources (structural schema pruning,
//! defaulting, validation; Tables from printer columns).

pub mod cel;
pub mod columns;
pub mod definition;
pub mod formats;
pub mod schema;
pub mod structural;

pub use columns::PrinterColumn;
pub use definition::{ScalePaths, ServedVersion};
