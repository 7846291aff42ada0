//! The embedded sample collection and `tagscape demo`.
