using CitySight.Domain;

namespace CitySight.Inference.StaticObjects;

/// <summary>
/// Model-free detector of new static objects for ONE camera: something put down and left (garbage, a billboard, a
/// stall) shows as a region that became different from the scene as it normally is and then stayed the same.
/// Its detections (class <see cref="StaticObjectOptions.ClassName"/>) join the models' detections of the frame and go
/// through the same tracker, rules, dedup, evidence and delivery.
/// <para>
/// Per frame, on frame time only:
/// 1. Reduce the BGR frame to a grid of averaged grey cells (sampled blocks: tolerant of noise and compression).
/// 2. Normalise by the median of the unmasked cells (median 128), so slow drift and dusk change nothing; the median
///    is robust to the object itself.
/// 3. A cell is changed when its normalised grey lies outside the range of the reference's 3×3 neighbourhood by more
///    than the threshold: a shake of a few pixels only blends a cell with its neighbours, which stays inside that range.
/// 4. A lighting switch (the median stepping by more than <see cref="StaticObjectOptions.ExposureJumpRatio"/>, or more
///    than <see cref="StaticObjectOptions.GlobalChangeFraction"/> of cells changed at once) re-seeds the reference
///    from the frame and raises nothing.
/// 5. Per cell: a candidate value and since-when it has been stable (within the tolerance). Changed and stable for the
///    settle time = static changed. Unchanged cells pull the reference towards the frame (exponential, FollowTime);
///    a static change is absorbed into the reference only after AbsorbTime, far beyond any dwell. Cells under masked
///    boxes (vehicles, persons from the models) neither update the reference nor become static objects.
/// 6. Static-changed cells are grouped into 4-connected regions (a label buffer and an explicit stack); regions within
///    the join gap of each other are one object; each within the size limits is one detection, boxed in frame pixels,
///    scored by its mean contrast.
/// When the object is removed its cells match the untouched reference again: no region, the tracker loses it and the
/// rules close the case as gone. Known limit: something that was in the very first frame and is later taken away
/// leaves a "ghost" (the revealed ground differs from the reference) that is reported until absorbed.
/// </para>
/// Not thread-safe; one instance per camera. Buffers are allocated on the first frame and on a size change; in steady
/// state <see cref="Detect(Frame, ReadOnlySpan{Box})"/> allocates nothing and returns the same reused list.
/// </summary>
public sealed class StaticObjectDetector
{
    private const float NormalMedian = 128f;
    private const float CandidateFollow = 0.25f;

    private readonly StaticObjectOptions _options;
    private readonly List<Detection> _results = new(16);
    private readonly int[] _histogram = new int[256];

    private int _width, _height, _cellW, _cellH, _cols, _rows, _stepX, _stepY;
    private int[] _sums = [];
    private float[] _grey = [];      // this frame, normalised
    private float[] _reference = []; // the scene as it normally is, normalised
    private float[] _candidate = []; // what the cell has steadily shown lately
    private long[] _stableSince = []; // frame time (ticks) since the candidate has held
    private float[] _difference = [];
    private byte[] _masked = [];
    private byte[] _known = [];      // reference seen unmasked (a cell under a car at seeding is learnt later)
    private byte[] _static = [];
    private int[] _labels = [];
    private int[] _stack = [];
    private Region[] _regions = [];
    private bool _seeded;
    private long _lastTicks;
    private float _lastMedian;

    public StaticObjectDetector(StaticObjectOptions? options = null)
    {
        _options = options ?? new StaticObjectOptions();
        Validate(_options);
    }

    public StaticObjectOptions Options => _options;

    private static void Validate(StaticObjectOptions o)
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new ArgumentOutOfRangeException(nameof(StaticObjectOptions), "static objects: " + message);
        }
        Check(o.CellsAcross >= 1 && o.CellsDown >= 1 && o.SamplesPerCellSide >= 1, "cells_across, cells_down and samples_per_cell_side must be at least 1");
        Check(o.DifferenceThreshold > 0 && o.StableTolerance > 0, "difference_threshold and stable_tolerance must be above 0");
        Check(o.SettleTime >= TimeSpan.Zero && o.FollowTime > TimeSpan.Zero, "settle_time must be 0 or more and follow_time above 0");
        Check(o.AbsorbTime > o.SettleTime, $"absorb_time ({o.AbsorbTime}) must be longer than settle_time ({o.SettleTime}), far longer than any dwell it serves");
        Check(o.MinRegionFraction >= 0 && o.MaxRegionFraction > o.MinRegionFraction && o.MaxRegionFraction <= 1, "region fractions must satisfy 0 <= min < max <= 1");
        Check(o.JoinGapFraction >= 0 && o.GlobalChangeFraction is > 0 and <= 1, "join_gap_fraction must be 0 or more and global_change_fraction in (0, 1]");
        Check(o.ExposureJumpRatio > 1 && o.MinMedianGrey >= 1, "exposure_jump_ratio must be above 1 and min_median_grey at least 1");
    }

    /// <summary>How many times the reference was re-seeded after the first frame (lighting switches, size changes).</summary>
    public int Reseeds { get; private set; }

    /// <summary>
    /// Finds static objects in <paramref name="frame"/>. <paramref name="masked"/>: this frame's boxes of moving or
    /// known-class detections (vehicles, persons) in frame pixels. The list is reused by the next call.
    /// </summary>
    public IReadOnlyList<Detection> Detect(Frame frame, ReadOnlySpan<Box> masked)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return Detect(frame.Bgr, frame.Width, frame.Height, frame.CaptureTime, masked);
    }

    /// <inheritdoc cref="Detect(Frame, ReadOnlySpan{Box})"/>
    public IReadOnlyList<Detection> Detect(ReadOnlySpan<byte> bgr, int width, int height, DateTimeOffset captureTime, ReadOnlySpan<Box> masked)
    {
        if (width <= 0 || height <= 0 || bgr.Length < width * height * 3)
            throw new ArgumentException($"static objects: frame {width}x{height} does not fit {bgr.Length} bytes", nameof(bgr));
        _results.Clear();
        if (width != _width || height != _height)
        {
            if (_seeded) Reseeds++;
            Allocate(width, height);
        }

        var ticks = captureTime.UtcTicks;
        Reduce(bgr);
        Mask(masked);
        var median = UnmaskedMedian();
        var scale = NormalMedian / MathF.Max(median, _options.MinMedianGrey);
        var grey = _grey.AsSpan();
        for (var i = 0; i < grey.Length; i++) grey[i] *= scale;

        if (!_seeded)
        {
            Seed(ticks, median);
            _seeded = true;
            return _results;
        }

        var ratio = median / MathF.Max(_lastMedian, 1f);
        if (ratio > _options.ExposureJumpRatio || ratio * _options.ExposureJumpRatio < 1f || CompareAndCountChanged())
        {
            Reseeds++;
            Seed(ticks, median);
            return _results;
        }

        var dt = Math.Max(0, ticks - _lastTicks);
        var follow = 1f - MathF.Exp(-(float)((double)dt / _options.FollowTime.Ticks));
        Update(ticks, follow);
        _lastTicks = Math.Max(_lastTicks, ticks);
        _lastMedian = median;
        FindRegions();
        return _results;
    }

    private void Allocate(int width, int height)
    {
        _width = width;
        _height = height;
        _cellW = Math.Max(1, width / _options.CellsAcross);
        _cellH = Math.Max(1, height / _options.CellsDown);
        _cols = width / _cellW;
        _rows = height / _cellH;
        _stepX = (_cellW + _options.SamplesPerCellSide - 1) / _options.SamplesPerCellSide;
        _stepY = (_cellH + _options.SamplesPerCellSide - 1) / _options.SamplesPerCellSide;
        var n = _cols * _rows;
        _sums = new int[n];
        _grey = new float[n];
        _reference = new float[n];
        _candidate = new float[n];
        _stableSince = new long[n];
        _difference = new float[n];
        _masked = new byte[n];
        _known = new byte[n];
        _static = new byte[n];
        _labels = new int[n];
        _stack = new int[n];
        _regions = new Region[n];
        _seeded = false;
    }

    /// <summary>Mean grey (B+G+R)/3 of every cell, read every stepX-th pixel of every stepY-th row.</summary>
    private void Reduce(ReadOnlySpan<byte> bgr)
    {
        var sums = _sums.AsSpan();
        sums.Clear();
        var stride = _width * 3;
        var pixelStep = _stepX * 3;
        for (var r = 0; r < _rows; r++)
        {
            var rowSums = sums.Slice(r * _cols, _cols);
            for (var y = r * _cellH; y < (r + 1) * _cellH; y += _stepY)
            {
                var line = bgr.Slice(y * stride, _cols * _cellW * 3);
                for (var c = 0; c < rowSums.Length; c++)
                {
                    var cell = line.Slice(c * _cellW * 3, _cellW * 3);
                    var s = 0;
                    for (var p = 0; p + 2 < cell.Length; p += pixelStep)
                        s += cell[p] + cell[p + 1] + cell[p + 2];
                    rowSums[c] += s;
                }
            }
        }

        var samples = 3f * ((_cellW + _stepX - 1) / _stepX) * ((_cellH + _stepY - 1) / _stepY);
        var grey = _grey.AsSpan();
        for (var i = 0; i < grey.Length; i++) grey[i] = sums[i] / samples;
    }

    /// <summary>Marks every cell a masked box touches.</summary>
    private void Mask(ReadOnlySpan<Box> boxes)
    {
        var masked = _masked.AsSpan();
        masked.Clear();
        foreach (var b in boxes)
        {
            var c0 = Math.Max(0, (int)MathF.Floor(b.X1 / _cellW));
            var c1 = Math.Min(_cols - 1, (int)MathF.Ceiling(b.X2 / _cellW) - 1);
            var r0 = Math.Max(0, (int)MathF.Floor(b.Y1 / _cellH));
            var r1 = Math.Min(_rows - 1, (int)MathF.Ceiling(b.Y2 / _cellH) - 1);
            for (var r = r0; r <= r1; r++)
                if (c1 >= c0) masked.Slice(r * _cols + c0, c1 - c0 + 1).Fill(1);
        }
    }

    /// <summary>Median raw grey of the unmasked cells (of all, if everything is masked), from a 256-bin histogram.</summary>
    private float UnmaskedMedian()
    {
        var hist = _histogram.AsSpan();
        hist.Clear();
        var count = 0;
        for (var i = 0; i < _grey.Length; i++)
        {
            if (_masked[i] != 0) continue;
            hist[Math.Clamp((int)_grey[i], 0, 255)]++;
            count++;
        }
        if (count == 0)
        {
            for (var i = 0; i < _grey.Length; i++) hist[Math.Clamp((int)_grey[i], 0, 255)]++;
            count = _grey.Length;
        }
        var half = (count + 1) / 2;
        var seen = 0;
        for (var v = 0; v < 256; v++)
        {
            seen += hist[v];
            if (seen >= half) return v + 0.5f;
        }
        return 255f;
    }

    private void Seed(long ticks, float median)
    {
        _grey.AsSpan().CopyTo(_reference);
        _grey.AsSpan().CopyTo(_candidate);
        _stableSince.AsSpan().Fill(ticks);
        for (var i = 0; i < _known.Length; i++) _known[i] = _masked[i] == 0 ? (byte)1 : (byte)0;
        _static.AsSpan().Clear();
        _lastTicks = ticks;
        _lastMedian = median;
    }

    /// <summary>
    /// Fills <see cref="_difference"/>: how far each cell lies outside its reference neighbourhood's range (0 when
    /// inside). True when so many unmasked cells changed at once that this is a lighting switch.
    /// </summary>
    private bool CompareAndCountChanged()
    {
        var changed = 0;
        var counted = 0;
        var threshold = _options.DifferenceThreshold;
        for (var r = 0; r < _rows; r++)
        {
            for (var c = 0; c < _cols; c++)
            {
                var i = r * _cols + c;
                if (_known[i] == 0)
                {
                    _difference[i] = 0;
                    continue;
                }
                float lo = float.MaxValue, hi = float.MinValue;
                for (var rr = Math.Max(0, r - 1); rr <= Math.Min(_rows - 1, r + 1); rr++)
                {
                    for (var cc = Math.Max(0, c - 1); cc <= Math.Min(_cols - 1, c + 1); cc++)
                    {
                        var j = rr * _cols + cc;
                        if (_known[j] == 0) continue;
                        var v = _reference[j];
                        lo = MathF.Min(lo, v);
                        hi = MathF.Max(hi, v);
                    }
                }
                var g = _grey[i];
                var d = g > hi ? g - hi : g < lo ? lo - g : 0f;
                _difference[i] = d;
                if (_masked[i] != 0) continue;
                counted++;
                if (d > threshold) changed++;
            }
        }
        return counted > 0 && changed > _options.GlobalChangeFraction * counted;
    }

    private void Update(long ticks, float follow)
    {
        var threshold = _options.DifferenceThreshold;
        var tolerance = _options.StableTolerance;
        var settle = _options.SettleTime.Ticks;
        var absorb = _options.AbsorbTime.Ticks;
        for (var i = 0; i < _grey.Length; i++)
        {
            _static[i] = 0;
            var g = _grey[i];
            if (_masked[i] != 0)
            {
                // Under a vehicle or person: nothing learnt, and a thing seen here must settle afresh once it is clear.
                _candidate[i] = g;
                _stableSince[i] = ticks;
                continue;
            }

            if (MathF.Abs(g - _candidate[i]) > tolerance)
            {
                _candidate[i] = g;
                _stableSince[i] = ticks;
            }
            else
            {
                _candidate[i] += CandidateFollow * (g - _candidate[i]);
            }
            var stableFor = ticks - _stableSince[i];

            if (_known[i] == 0)
            {
                // First seen clear (e.g. a car parked here at seeding left): learn it once it holds, report nothing.
                if (stableFor >= settle)
                {
                    _reference[i] = _candidate[i];
                    _known[i] = 1;
                }
                continue;
            }

            // Only a cell that matches its own reference follows the scene. One that differs but lies within its
            // neighbourhood's range (shake, or the part of an object that resembles the ground next to it) must not
            // drift towards what covers it, or removing the object would leave a ghost; it is absorbed like any still
            // change, after the absorb time.
            if (MathF.Abs(g - _reference[i]) <= threshold)
                _reference[i] += follow * (g - _reference[i]);
            else if (stableFor >= absorb)
                _reference[i] = _candidate[i];
            else if (_difference[i] > threshold && stableFor >= settle)
                _static[i] = 1;
        }
    }

    /// <summary>
    /// 4-connected regions of static-changed cells; regions closer than the join gap are one object (parts of a thing
    /// that happen to match the ground split it); each object within the size limits is one detection.
    /// </summary>
    private void FindRegions()
    {
        var labels = _labels.AsSpan();
        labels.Clear();
        var regions = 0;
        for (var start = 0; start < _static.Length; start++)
        {
            if (_static[start] == 0 || labels[start] != 0) continue;
            var label = regions + 1;
            var top = 0;
            _stack[top++] = start;
            labels[start] = label;
            var region = new Region { MinC = int.MaxValue, MinR = int.MaxValue, MaxC = -1, MaxR = -1 };
            while (top > 0)
            {
                var i = _stack[--top];
                int r = i / _cols, c = i - r * _cols;
                region.Cells++;
                region.Contrast += _difference[i];
                region.MinC = Math.Min(region.MinC, c);
                region.MaxC = Math.Max(region.MaxC, c);
                region.MinR = Math.Min(region.MinR, r);
                region.MaxR = Math.Max(region.MaxR, r);
                if (c > 0) Push(i - 1, label, ref top);
                if (c < _cols - 1) Push(i + 1, label, ref top);
                if (r > 0) Push(i - _cols, label, ref top);
                if (r < _rows - 1) Push(i + _cols, label, ref top);
            }
            _regions[regions++] = region;
        }

        regions = JoinNearby(regions);

        var cellArea = (float)_cellW * _cellH;
        var frameArea = (float)_width * _height;
        var minCells = _options.MinRegionFraction * frameArea / cellArea;
        var maxCells = _options.MaxRegionFraction * frameArea / cellArea;
        for (var k = 0; k < regions; k++)
        {
            ref readonly var g = ref _regions[k];
            if (g.Cells < minCells || g.Cells > maxCells) continue;
            var mean = g.Contrast / g.Cells;
            var score = mean / (mean + _options.DifferenceThreshold);
            var box = new Box(g.MinC * _cellW, g.MinR * _cellH, (g.MaxC + 1) * _cellW, (g.MaxR + 1) * _cellH);
            _results.Add(new Detection(_options.ClassId, StaticObjectOptions.ClassName, score, box, CaseType: null));
        }
    }

    /// <summary>Merges regions whose boxes come within the join gap of each other, until none do; returns the count left.</summary>
    private int JoinNearby(int regions)
    {
        var gap = (int)MathF.Ceiling(_options.JoinGapFraction * _cols);
        var merged = true;
        while (merged)
        {
            merged = false;
            for (var a = 0; a < regions; a++)
            {
                for (var b = a + 1; b < regions; b++)
                {
                    ref var x = ref _regions[a];
                    ref readonly var y = ref _regions[b];
                    if (y.MinC > x.MaxC + gap || x.MinC > y.MaxC + gap || y.MinR > x.MaxR + gap || x.MinR > y.MaxR + gap)
                        continue;
                    x.Cells += y.Cells;
                    x.Contrast += y.Contrast;
                    x.MinC = Math.Min(x.MinC, y.MinC);
                    x.MaxC = Math.Max(x.MaxC, y.MaxC);
                    x.MinR = Math.Min(x.MinR, y.MinR);
                    x.MaxR = Math.Max(x.MaxR, y.MaxR);
                    _regions[b] = _regions[--regions];
                    b--;
                    merged = true;
                }
            }
        }
        return regions;
    }

    private struct Region
    {
        public int Cells, MinC, MinR, MaxC, MaxR;
        public float Contrast;
    }

    private void Push(int i, int label, ref int top)
    {
        if (_static[i] == 0 || _labels[i] != 0) return;
        _labels[i] = label;
        _stack[top++] = i;
    }
}
