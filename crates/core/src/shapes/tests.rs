//! Tests of the walker and of the declarations.
