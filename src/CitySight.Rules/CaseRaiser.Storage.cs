using CitySight.Domain;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace CitySight.Rules;

/// <summary>The case-raising stage's writes to the sink: the backlog written in order, storage faults waited out.</summary>
public sealed partial class CaseRaiser
{
    /// <summary>
    /// 500 new cases wait in memory at most: a few hundred KB of pictures each, so a few hundred MB at worst, and hours of
    /// a busy district's cases (an operator has been told NOT_SERVING long before).
    /// </summary>
    public const int DefaultMaxWaitingCases = 500;

    /// <summary>Most cases held while the store cannot be written.</summary>
    public int MaxWaitingCases => _maxWaitingCases;

    private static readonly Counter StoreFailures = Metrics.CreateCounter(
        "citysight_store_failures_total",
        "Writes to the case store that failed for a storage reason (disk full, read-only, I/O error); what they carried waits in memory and is retried.",
        new CounterConfiguration { LabelNames = ["operation"] });

    private static readonly Gauge CasesWaiting = Metrics.CreateGauge(
        "citysight_cases_waiting_for_store", "New cases decided but not yet stored because the case store cannot be written.");

    private static readonly Counter CasesNotKept = Metrics.CreateCounter(
        "citysight_cases_not_kept_total",
        "New cases not kept because the case store could not be written and the waiting cases reached their limit (raised again at a later sighting).");

    /// <summary>
    /// Too many cases wait already: this one is not kept, and site dedup forgets it so that a later sighting of the same
    /// thing (once the store takes writes again) raises it afresh rather than updating a case that exists nowhere.
    /// </summary>
    private void NotKept(string caseId, Hit hit)
    {
        _site.Drop(caseId);
        CasesNotKept.Inc();
        _logger.LogError("Case {Case} ({Type} on camera {Camera}) not kept: {Waiting} new cases already wait for the case store ({Problem})",
            caseId, hit.CaseType, hit.CameraId, _backlog.WaitingCases, _storeProblem);
    }

    /// <summary>A fault of the storage under the sink (it may heal), not of what was written: disk full, read-only, I/O error.</summary>
    private static bool IsStorageFault(Exception ex) => ex is IOException or UnauthorizedAccessException;

    /// <summary>
    /// Writes what waits through the sink when due: new cases in order (stopping at the first that fails), then sightings
    /// and closures, in order, of the cases already stored (a waiting case's wait behind its opening); it stops at the
    /// first storage fault and leaves the rest waiting. A write refused for another reason would be refused forever: it
    /// is logged and let go (a new case is then rolled back from site dedup, never left half-recorded).
    /// </summary>
    private async Task FlushAsync(CancellationToken ct)
    {
        if (_backlog.IsEmpty || !_backlog.IsDue)
        {
            CountWaiting();
            return;
        }
        Exception? fault = null;
        var operation = "open";
        try
        {
            try
            {
                await OpenWaitingAsync(ct);
            }
            catch (Exception ex) when (IsStorageFault(ex))
            {
                // New cases wait; what the store already has may still be updated (a reserve for pictures, not the database).
                fault = ex;
                StoreFailures.WithLabels(operation).Inc();
            }
            foreach (var s in _backlog.Sightings())
            {
                if (_backlog.IsOpening(s.CaseId)) continue;
                operation = "sighting";
                try
                {
                    await _sink.UpdateSightingAsync(s.CaseId, s.LastSeen, s.Confidence, s.Evidence, s.Crop, ct);
                }
                catch (Exception ex) when (!IsStorageFault(ex) && ex is not OperationCanceledException)
                {
                    _logger.LogWarning(ex, "Sighting of case {Case} not recorded", s.CaseId);
                }
                _backlog.RemoveSighting(s.CaseId);
            }
            foreach (var gone in _backlog.Closes())
            {
                if (_backlog.IsOpening(gone.CaseId)) continue;
                operation = "close";
                await CloseAsync(gone, ct);
                _backlog.RemoveClose(gone);
            }
        }
        catch (Exception ex) when (IsStorageFault(ex))
        {
            fault = ex;
            StoreFailures.WithLabels(operation).Inc();
        }
        finally
        {
            CountWaiting();
        }
        if (fault is null) Healed();
        else Faulted(fault, operation);
    }

    private async Task OpenWaitingAsync(CancellationToken ct)
    {
        while (_backlog.PeekOpen() is { } c)
        {
            try
            {
                var stored = await _sink.OpenAsync(c, ct);
                if (stored.Id == c.Id)
                {
                    _site.MarkStored(c.Id);
                    _logger.LogInformation("Case {Case} opened: {Type} on camera {Camera} (confidence {Confidence:F2})",
                        c.Id, c.CaseType, c.CameraId, c.Confidence);
                }
                else
                {
                    // A store shared by a cluster's nodes found another node's open case of this type at this place, raised
                    // at the same moment: that one is the case, and this node's later sightings go to it.
                    _site.Drop(c.Id);
                    RememberShared(stored);
                    _logger.LogInformation("Case {Case} ({Type} on camera {Camera}) joined case {Existing}, raised at the same place by camera {Other}",
                        c.Id, c.CaseType, c.CameraId, stored.Id, stored.CameraId);
                }
            }
            catch (Exception ex) when (!IsStorageFault(ex) && ex is not OperationCanceledException)
            {
                _site.Drop(c.Id);
                _logger.LogError(ex, "Case {Case} ({Type} on camera {Camera}) was refused by the case store and is dropped", c.Id, c.CaseType, c.CameraId);
            }
            _backlog.RemoveOpen();
        }
    }

    private void CountWaiting()
    {
        _waitingCases = _backlog.WaitingCases;
        CasesWaiting.Set(_waitingCases);
    }

    private void Healed()
    {
        _backlog.Succeeded();
        if (_storeProblem is not null)
            _logger.LogWarning("The case store takes writes again: everything that waited since {Since:O} is stored", _faultSince);
        SetStoreProblem(null);
    }

    private void Faulted(Exception ex, string operation)
    {
        _backlog.Failed();
        if (_storeProblem is null)
        {
            _faultSince = _time.GetUtcNow();
            _logger.LogError(ex, "The case store cannot be written ({Operation}): new cases wait in memory and are retried", operation);
        }
        else _logger.LogWarning("The case store still cannot be written ({Operation}): {Message}", operation, ex.Message);
        // No counts in it: they change between tries (WaitingCases has them); the reason changes only with the fault.
        SetStoreProblem($"case store cannot be written since {_faultSince:yyyy-MM-dd HH:mm:ss}Z: {ex.Message} (new cases wait in memory and are retried)");
    }

    private async Task CloseAsync(GoneCase gone, CancellationToken ct)
    {
        try
        {
            // False: dispatch closed or rejected it first, and its word stands.
            if (await _sink.CloseGoneAsync(gone.CaseId, gone.At,
                    $"gone: no camera has seen it since {gone.LastSeen:yyyy-MM-dd HH:mm:ss zzz}; closed by CitySight", ct))
                _logger.LogInformation("Case {Case} closed: not seen since {LastSeen:O}", gone.CaseId, gone.LastSeen);
        }
        catch (KeyNotFoundException)
        {
            _logger.LogWarning("Case {Case} is gone but was never stored; nothing to close", gone.CaseId);
        }
    }

    private void SetStoreProblem(string? problem)
    {
        if (problem == _storeProblem) return;
        _storeProblem = problem;
        StoreProblemChanged?.Invoke(problem);
    }
}
