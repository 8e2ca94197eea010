//! std ↔ loom facade for corio-blocking (see `corio_sync::loom`).
#![allow(unused_imports)]

pub(crate) use corio_sync::loom::*;
