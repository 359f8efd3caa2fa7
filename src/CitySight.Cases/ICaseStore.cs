namespace CitySight.Cases;

/// <summary>
/// The durable case store as a whole, for the host that opens and closes it: cases, their feed and cursors, and their
/// pictures. Stages depend on the narrowest part they use (<see cref="Domain.ICaseSink"/>, <see cref="ICaseRecords"/>,
/// <see cref="ICaseFeed"/>, <see cref="IEvidenceStore"/>). SQLite (<see cref="Sqlite.SqliteCaseStore"/>) is the embedded
/// default; a backend is one that passes the contract suite (tests/CitySight.Cases.Tests, <c>CaseStoreContract</c>).
/// Disposing ends every feed follower with <see cref="ObjectDisposedException"/>.
/// </summary>
public interface ICaseStore : ICaseRecords, ICaseFeed, IEvidenceStore, IDisposable, IAsyncDisposable;
