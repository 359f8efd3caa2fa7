namespace CitySight.Cases.Postgres;

/// <summary>What <see cref="PostgresImport.FromSqliteAsync"/> copied.</summary>
/// <param name="Cases">Case rows.</param>
/// <param name="FeedEvents">Feed events, with their sequences unchanged.</param>
/// <param name="Consumers">Consumer cursors.</param>
/// <param name="Pictures">Evidence pictures (every view found).</param>
/// <param name="LastSequence">The feed's head afterwards: the next new case gets the one after it.</param>
public readonly record struct PostgresImportResult(int Cases, int FeedEvents, int Consumers, int Pictures, long LastSequence);
