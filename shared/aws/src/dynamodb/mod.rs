//! The ports over DynamoDB (AWS, and `moto` in tests).

pub mod catalog;
pub mod purchases;
