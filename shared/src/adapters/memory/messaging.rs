//! In-memory queue and mailer: record what was sent, and can be told to fail the next sends.

use crate::domain::events::DomainEvent;
use crate::ports::{EventBus, Mail, MailError, Mailer, Queue};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

fn take(n: &AtomicU32) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1)).is_ok()
}

#[derive(Debug, Default)]
pub struct MemoryQueue {
    pub messages: Mutex<Vec<String>>,
    fail_next: AtomicU32,
}

impl MemoryQueue {
    /// The next `n` sends fail as an unavailable queue would.
    pub fn fail_next(&self, n: u32) {
        self.fail_next.store(n, Ordering::SeqCst);
    }
    /// Takes every message sent so far.
    pub fn take(&self) -> Vec<String> {
        self.messages.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Queue for MemoryQueue {
    async fn send(&self, body: &str) -> Result<(), String> {
        if take(&self.fail_next) {
            return Err("injected queue failure".into());
        }
        self.messages.lock().map_err(|e| e.to_string())?.push(body.to_owned());
        Ok(())
    }
}

/// An in-memory event bus: keeps what was published; can be told to fail the next publishes.
#[derive(Debug, Default)]
pub struct MemoryBus {
    pub events: Mutex<Vec<DomainEvent>>,
    pub inventory: Mutex<Vec<crate::domain::events::InventoryEvent>>,
    fail_next: AtomicU32,
}

impl MemoryBus {
    pub fn fail_next(&self, n: u32) {
        self.fail_next.store(n, Ordering::SeqCst);
    }
    pub fn take(&self) -> Vec<DomainEvent> {
        self.events.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), String> {
        if take(&self.fail_next) {
            return Err("injected bus failure".into());
        }
        self.events.lock().map_err(|e| e.to_string())?.extend_from_slice(events);
        Ok(())
    }

    async fn publish_inventory(&self, events: &[crate::domain::events::InventoryEvent]) -> Result<(), String> {
        if take(&self.fail_next) {
            return Err("injected bus failure".into());
        }
        self.inventory.lock().map_err(|e| e.to_string())?.extend_from_slice(events);
        Ok(())
    }
}

#[derive(Debug, Default)]
pub struct MemoryMailer {
    pub sent: Mutex<Vec<Mail>>,
}

#[async_trait::async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.sent.lock().map_err(|e| MailError::Transient(e.to_string()))?.push(mail.clone());
        Ok(())
    }
}

/// SMS and push kept in memory; numbers ending in 99 have replied STOP (as moto has it).
#[derive(Debug, Default)]
pub struct MemoryMessages {
    pub sent: Mutex<Vec<crate::ports::OutboundMessage>>,
}

#[async_trait::async_trait]
impl crate::ports::MessageSender for MemoryMessages {
    async fn send(&self, m: &crate::ports::OutboundMessage) -> Result<(), crate::ports::MessageError> {
        use crate::domain::messaging::MessageChannel;
        if m.channel == MessageChannel::Sms && m.to.ends_with("99") {
            return Err(crate::ports::MessageError::OptedOut);
        }
        self.sent.lock().map_err(|e| crate::ports::MessageError::Transient(e.to_string()))?.push(m.clone());
        Ok(())
    }
}
