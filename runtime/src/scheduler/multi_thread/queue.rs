//! The run queues behind one small interface: crossbeam-deque normally, a
//! `Mutex<VecDeque>` stand-in under loom (crossbeam is trusted; loom checks our protocols).

#[cfg(not(any(loom, shuttle)))]
mod imp {
    use crossbeam_deque as cb;

    /// The result of a steal attempt.
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        Retry,
    }

    fn convert<T>(s: cb::Steal<T>) -> Steal<T> {
        match s {
            cb::Steal::Empty => Steal::Empty,
            cb::Steal::Success(t) => Steal::Success(t),
            cb::Steal::Retry => Steal::Retry,
        }
    }

    /// A worker's own FIFO queue; only its owner pushes and pops.
    pub(crate) struct Local<T>(cb::Worker<T>);

    /// The handle other workers steal from.
    pub(crate) struct Stealer<T>(cb::Stealer<T>);

    /// The shared queue for tasks scheduled from outside any worker.
    pub(crate) struct Injector<T>(cb::Injector<T>);

    impl<T> Local<T> {
        pub(crate) fn new_fifo() -> Local<T> {
            Local(cb::Worker::new_fifo())
        }
        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.stealer())
        }
        pub(crate) fn push(&self, task: T) {
            self.0.push(task)
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.pop()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Stealer<T> {
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            convert(self.0.steal_batch_and_pop(&dest.0))
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            convert(self.0.steal())
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector(cb::Injector::new())
        }
        pub(crate) fn push(&self, task: T) {
            self.0.push(task)
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            convert(self.0.steal())
        }
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            convert(self.0.steal_batch_and_pop(&dest.0))
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(any(loom, shuttle))]
mod imp {
    use std::collections::VecDeque;

    use crate::loom::{Arc, Mutex};

    /// The result of a steal attempt.
    pub(crate) enum Steal<T> {
        Empty,
        Success(T),
        #[allow(dead_code)]
        Retry,
    }

    type Shared<T> = Arc<Mutex<VecDeque<T>>>;

    /// A worker's own FIFO queue.
    pub(crate) struct Local<T>(Shared<T>);

    /// The handle other workers steal from.
    pub(crate) struct Stealer<T>(Shared<T>);

    /// The shared queue for tasks scheduled from outside any worker.
    pub(crate) struct Injector<T>(Mutex<VecDeque<T>>);

    fn batch_into<T>(src: &mut VecDeque<T>, dest: &Local<T>) -> Steal<T> {
        let Some(first) = src.pop_front() else {
            return Steal::Empty;
        };
        let n = src.len() / 2;
        let mut d = dest.0.lock();
        d.extend(src.drain(..n));
        Steal::Success(first)
    }

    impl<T> Local<T> {
        pub(crate) fn new_fifo() -> Local<T> {
            Local(Arc::new(Mutex::new(VecDeque::new())))
        }
        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.clone())
        }
        pub(crate) fn push(&self, task: T) {
            self.0.lock().push_back(task)
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.lock().pop_front()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    impl<T> Stealer<T> {
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            if Arc::ptr_eq(&self.0, &dest.0) {
                return Steal::Empty;
            }
            let mut src = self.0.lock();
            batch_into(&mut src, dest)
        }
        #[allow(dead_code)] // the monitor thread's hand-off; no monitor under loom
        pub(crate) fn steal(&self) -> Steal<T> {
            match self.0.lock().pop_front() {
                Some(t) => Steal::Success(t),
                None => Steal::Empty,
            }
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector(Mutex::new(VecDeque::new()))
        }
        pub(crate) fn push(&self, task: T) {
            self.0.lock().push_back(task)
        }
        pub(crate) fn steal(&self) -> Steal<T> {
            match self.0.lock().pop_front() {
                Some(t) => Steal::Success(t),
                None => Steal::Empty,
            }
        }
        pub(crate) fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            let mut src = self.0.lock();
            batch_into(&mut src, dest)
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.lock().is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.lock().len()
        }
    }
}

pub(crate) use imp::*;

impl<T> std::fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").field("len", &self.len()).finish()
    }
}

impl<T> std::fmt::Debug for Injector<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injector")
            .field("empty", &self.is_empty())
            .finish()
    }
}

impl<T> std::fmt::Debug for Stealer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stealer")
            .field("empty", &self.is_empty())
            .finish()
    }
}
