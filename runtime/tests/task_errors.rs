//! `TaskError` and `GroupError<E>` are `Send + Sync + 'static` errors, so `task.await?`
//! and `group.join().await?` convert into `anyhow::Error` and
//! `Box<dyn Error + Send + Sync>`.

mod common;

use std::error::Error;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use common::current_thread;
use corio_runtime::task::PanicPayload;
use corio_runtime::{spawn, GroupError, TaskError, TaskGroup};
use corio_test_util::within;

type BoxError = Box<dyn Error + Send + Sync + 'static>;

fn assert_send_sync_static<T: Send + Sync + 'static>() {}

#[test]
fn the_errors_are_send_sync_static() {
    assert_send_sync_static::<TaskError>();
    assert_send_sync_static::<PanicPayload>();
    assert_send_sync_static::<GroupError<io::Error>>();
    assert_send_sync_static::<GroupError<String>>();
    assert_send_sync_static::<GroupError<BoxError>>();
    // One pointer: a finished task's output slot pays nothing for the wrapper.
    assert_eq!(
        std::mem::size_of::<TaskError>(),
        std::mem::size_of::<usize>()
    );
}

async fn panicking_task_with_anyhow() -> anyhow::Result<u32> {
    let ok: u32 = spawn(async { 40 }).await?;
    let boom: u32 = spawn(async move {
        if ok > 0 {
            panic!("boom {}", ok / 20); // formatted at run time: a String payload
        }
        2
    })
    .await?;
    Ok(ok + boom)
}

async fn cancelled_task_with_a_boxed_error() -> Result<(), BoxError> {
    let task = spawn(std::future::pending::<()>());
    task.cancel();
    task.await?;
    Ok(())
}

#[test]
fn task_await_question_mark_into_anyhow_and_box_dyn_error() {
    within(Duration::from_secs(20), || {
        let rt = current_thread();
        let err = rt.block_on(panicking_task_with_anyhow()).unwrap_err();
        assert_eq!(err.to_string(), "task panicked: boom 2");
        let task_err = err.downcast::<TaskError>().unwrap();
        assert!(task_err.is_panic());
        // The payload comes back out by value, with its original type.
        let payload = task_err.into_panic();
        assert_eq!(*payload.downcast::<String>().unwrap(), "boom 2");

        let err = rt
            .block_on(cancelled_task_with_a_boxed_error())
            .unwrap_err();
        assert_eq!(err.to_string(), "task was cancelled");
        assert!(err.downcast_ref::<TaskError>().unwrap().is_cancelled());
        // Send + Sync: the boxed error crosses threads.
        let shown = std::thread::spawn(move || err.to_string()).join().unwrap();
        assert_eq!(shown, "task was cancelled");
    });
}

#[test]
fn a_shared_task_error_is_readable_from_other_threads() {
    within(Duration::from_secs(20), || {
        let rt = current_thread();
        let err = rt
            .block_on(rt.spawn(async { panic!("{}", String::from("shared")) }))
            .unwrap_err();
        let err = Arc::new(err);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let err = err.clone();
                std::thread::spawn(move || format!("{err} / {err:?}"))
            })
            .collect();
        for r in readers {
            assert_eq!(
                r.join().unwrap(),
                r#"task panicked: shared / Panicked("shared")"#
            );
        }
        let TaskError::Panicked(payload) = Arc::try_unwrap(err).unwrap() else {
            panic!("expected a panic");
        };
        assert_eq!(payload.message(), Some("shared"));
    });
}

#[test]
fn a_non_string_panic_payload_still_displays() {
    within(Duration::from_secs(20), || {
        let rt = current_thread();
        let err = rt
            .block_on(rt.spawn(async { std::panic::panic_any(7_u64) }))
            .unwrap_err();
        assert_eq!(err.to_string(), "task panicked");
        assert_eq!(format!("{err:?}"), "Panicked(Box<dyn Any>)");
        assert_eq!(*err.into_panic().downcast::<u64>().unwrap(), 7);
    });
}

async fn failing_group() -> anyhow::Result<Vec<u32>> {
    let group = TaskGroup::<u32, io::Error>::new();
    group.spawn(async { Ok(1) }).unwrap();
    group
        .spawn(async { Err(io::Error::other("disk full")) })
        .unwrap();
    Ok(group.join().await?)
}

async fn panicking_group() -> Result<Vec<u32>, BoxError> {
    let group = TaskGroup::<u32, io::Error>::new();
    group.spawn(async { panic!("member exploded") }).unwrap();
    Ok(group.join().await?)
}

#[test]
fn group_join_question_mark_into_anyhow_and_box_dyn_error() {
    within(Duration::from_secs(20), || {
        let rt = current_thread();
        let err = rt.block_on(failing_group()).unwrap_err();
        assert_eq!(err.to_string(), "1 task of the group failed: disk full");
        // The first error is the source, so anyhow's chain reaches it.
        let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
        assert_eq!(
            chain,
            ["1 task of the group failed: disk full", "disk full"]
        );
        let group_err = err.downcast::<GroupError<io::Error>>().unwrap();
        assert_eq!(group_err.errors()[0].kind(), io::ErrorKind::Other);

        let err = rt.block_on(panicking_group()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "1 task of the group failed: panicked: member exploded"
        );
        let err = std::thread::spawn(move || err).join().unwrap();
        let group_err = err.downcast::<GroupError<io::Error>>().unwrap();
        assert_eq!(group_err.panics()[0].message(), Some("member exploded"));
        let (errors, panics) = group_err.into_parts();
        assert!(errors.is_empty());
        assert_eq!(
            *panics[0].downcast_ref::<&str>().unwrap(),
            "member exploded"
        );
    });
}
