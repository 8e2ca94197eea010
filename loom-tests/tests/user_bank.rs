//! Model-checking *your own* code: written the way a user of corio would, against the
//! `corio::sync` facade. Compiled with `RUSTFLAGS="--cfg loom"`, corio's primitives run on
//! loom's atomics and locks, so `loom::model` explores every interleaving of the tasks
//! below (each on its own loom thread) and `loom::future::block_on` drives them.
//!
//! The bank moves money between accounts. `transfer` checks the balance and debits it
//! under one lock; `transfer_check_then_act` (the buggy twin) checks under one lock, lets
//! it go, and debits under another — two concurrent transfers can then both pass the
//! check and overdraw the account. loom finds that interleaving.
#![cfg(loom)]

use corio::sync::Mutex;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

#[derive(Debug, PartialEq, Eq)]
struct InsufficientFunds;

struct Bank {
    accounts: Vec<Mutex<u64>>,
}

impl Bank {
    fn new(balances: &[u64]) -> Bank {
        Bank {
            accounts: balances.iter().map(|&b| Mutex::new(b)).collect(),
        }
    }

    /// Correct: the check and the debit happen under the same lock.
    async fn transfer(&self, from: usize, to: usize, amount: u64) -> Result<(), InsufficientFunds> {
        {
            let mut balance = self.accounts[from].lock().await;
            if *balance < amount {
                return Err(InsufficientFunds);
            }
            *balance -= amount;
        }
        *self.accounts[to].lock().await += amount;
        Ok(())
    }

    /// Buggy: the balance may change between the check and the debit.
    async fn transfer_check_then_act(
        &self,
        from: usize,
        to: usize,
        amount: u64,
    ) -> Result<(), InsufficientFunds> {
        let balance = *self.accounts[from].lock().await;
        if balance < amount {
            return Err(InsufficientFunds);
        }
        {
            let mut balance = self.accounts[from].lock().await;
            *balance = balance.checked_sub(amount).expect("account overdrawn");
        }
        *self.accounts[to].lock().await += amount;
        Ok(())
    }

    async fn total(&self) -> u64 {
        let mut sum = 0;
        for account in &self.accounts {
            sum += *account.lock().await;
        }
        sum
    }
}

/// Two customers each try to move 60 out of an account holding 100, concurrently.
fn two_withdrawals(racy: bool) {
    loom::model(move || {
        let bank = Arc::new(Bank::new(&[100, 0]));
        let run = move |bank: Arc<Bank>, to: usize| {
            block_on(async move {
                if racy {
                    bank.transfer_check_then_act(0, to, 60).await
                } else {
                    bank.transfer(0, to, 60).await
                }
            })
        };
        let b2 = bank.clone();
        let other = thread::spawn(move || run(b2, 1));
        let mine = run(bank.clone(), 1);
        let theirs = other.join().unwrap();
        // Exactly one of the two transfers can succeed, and no money is created or lost.
        assert_eq!(
            [&mine, &theirs].iter().filter(|r| r.is_ok()).count(),
            1,
            "{mine:?} {theirs:?}"
        );
        assert_eq!(block_on(bank.total()), 100);
    });
}

#[test]
fn bank_transfer_never_overdraws() {
    two_withdrawals(false);
}

#[test]
#[should_panic(expected = "account overdrawn")]
fn bank_check_then_act_overdraws() {
    two_withdrawals(true);
}

/// The README's "Model-check your own code" example, verbatim: keep them in sync.
#[test]
fn readme_two_withdrawals_never_overdraw() {
    loom::model(|| {
        let balance = Arc::new(Mutex::new(100u64));
        let withdraw = |b: Arc<Mutex<u64>>| {
            block_on(async move {
                let mut g = b.lock().await;
                if *g >= 60 {
                    *g -= 60;
                    true
                } else {
                    false
                }
            })
        };
        let b2 = balance.clone();
        let t = thread::spawn(move || withdraw(b2));
        let mine = withdraw(balance.clone());
        let theirs = t.join().unwrap();
        assert!(mine ^ theirs, "exactly one withdrawal succeeds");
        assert_eq!(*block_on(balance.lock()), 40);
    });
}
