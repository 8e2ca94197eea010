//! std ↔ loom facade for corio-runtime (see `corio_sync::loom`).
#![allow(unused_imports)]

pub(crate) use corio_sync::loom::*;
