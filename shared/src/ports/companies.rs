use super::StoreError;
use crate::domain::company::Company;

/// Business accounts. An order on account draws credit in its own commit
/// (`OrderChange::company`, versioned); staff set the account up and record payments with
/// `put_company` (versioned too: `expected` is the version read, 0 for a new one).
#[async_trait::async_trait]
pub trait CompanyRepository: Send + Sync {
    async fn get_company(&self, id: &str) -> Result<Option<Company>, StoreError>;
    async fn put_company(&self, company: &Company, expected: u64) -> Result<(), StoreError>;
}
