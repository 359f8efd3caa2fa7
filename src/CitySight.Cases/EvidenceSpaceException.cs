namespace CitySight.Cases;

/// <summary>
/// The evidence folder's file system has less free space than the store keeps in reserve for its database, so a new
/// case's pictures are not written (nor the case). A storage fault: it heals once space is freed, and the case raiser
/// keeps the case waiting until then.
/// </summary>
public sealed class EvidenceSpaceException(string message) : IOException(message);
