namespace RelpSae.Dashboards;

/// <summary>
/// Per feature, the k largest activations seen while streaming, each with its window of tokens and the feature's
/// activations on them, cut from the context as the entry enters (only entries keep windows). A min-heap of slot
/// numbers per feature, the worst entry at its root: most offers cost one comparison. Of equal activations the
/// earlier keeps its place. Memory is d_sae × k × (window × 8 + 24) bytes, whatever the data's size.
/// </summary>
internal sealed class TopContexts
{
    private readonly int _dSae, _k, _width, _before, _after;
    private readonly float[] _value;
    private readonly long[] _context;
    private readonly int[] _position, _heap, _count, _windowStart, _windowLength, _windowIds;
    private readonly float[] _windowValues;

    public TopContexts(int dSae, DashboardOptions options)
    {
        (_dSae, _k, _before, _after) = (dSae, options.TopContexts, options.WindowBefore, options.WindowAfter);
        _width = _before + 1 + _after;
        long slots = (long)dSae * _k;
        if (slots * _width > Array.MaxLength)
            throw new SettingException(name => $"{name(Setting.TopContexts)} {_k} with a window of {_width} tokens for {dSae} features is more than one buffer can hold");
        _value = new float[slots];
        _context = new long[slots];
        _position = new int[slots];
        _heap = new int[slots];
        _windowStart = new int[slots];
        _windowLength = new int[slots];
        _count = new int[dSae];
        _windowIds = new int[slots * _width];
        _windowValues = new float[slots * _width];
    }

    /// <summary>
    /// Feature <paramref name="feature"/> reached <paramref name="value"/> at <paramref name="position"/> of context
    /// number <paramref name="context"/>, whose tokens are <paramref name="tokens"/> and every feature's activations
    /// [T × d_sae] <paramref name="features"/>; the window starts no earlier than <paramref name="first"/>. Contexts
    /// and positions come in increasing order.
    /// </summary>
    public void Offer(int feature, float value, long context, int position, ReadOnlySpan<int> tokens, ReadOnlySpan<float> features, int first)
    {
        int root = feature * _k, n = _count[feature], slot;
        if (n < _k)
        {
            slot = root + n;
            _heap[root + n] = slot;
            _count[feature] = n + 1;
        }
        else
        {
            slot = _heap[root];
            // A later occurrence of the same value loses to the earlier one held.
            if (!(value > _value[slot])) return;
        }
        _value[slot] = value;
        _context[slot] = context;
        _position[slot] = position;
        int start = Math.Max(first, position - _before), end = Math.Min(tokens.Length - 1, position + _after);
        _windowStart[slot] = start;
        _windowLength[slot] = end - start + 1;
        for (int t = start; t <= end; t++)
        {
            _windowIds[(long)slot * _width + t - start] = tokens[t];
            _windowValues[(long)slot * _width + t - start] = features[t * _dSae + feature];
        }
        if (n < _k) SiftUp(root, n);
        else SiftDown(root, 0, _k);
    }

    /// <summary>Feature <paramref name="feature"/>'s entries, largest activation first (earlier first among equals).</summary>
    public IReadOnlyList<ContextWindow> Top(int feature) =>
        [.. _heap.AsSpan(feature * _k, _count[feature]).ToArray()
            .OrderBy(s => s, Comparer<int>.Create((a, b) => Worse(b, a) ? -1 : Worse(a, b) ? 1 : 0))
            .Select(s => new ContextWindow(_context[s], _position[s], _value[s],
                _windowIds.AsSpan((int)((long)s * _width), _windowLength[s]).ToArray(),
                _windowValues.AsSpan((int)((long)s * _width), _windowLength[s]).ToArray(),
                _position[s] - _windowStart[s]))];

    /// <summary>Whether slot a ranks below slot b: a smaller activation, or the same one seen later.</summary>
    private bool Worse(int a, int b) =>
        _value[a] < _value[b] || (_value[a] == _value[b] && (_context[a], _position[a]).CompareTo((_context[b], _position[b])) > 0);

    private void SiftUp(int root, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Worse(_heap[root + i], _heap[root + parent])) return;
            (_heap[root + i], _heap[root + parent]) = (_heap[root + parent], _heap[root + i]);
            i = parent;
        }
    }

    private void SiftDown(int root, int i, int n)
    {
        while (true)
        {
            int worst = i, left = 2 * i + 1, right = left + 1;
            if (left < n && Worse(_heap[root + left], _heap[root + worst])) worst = left;
            if (right < n && Worse(_heap[root + right], _heap[root + worst])) worst = right;
            if (worst == i) return;
            (_heap[root + i], _heap[root + worst]) = (_heap[root + worst], _heap[root + i]);
            i = worst;
        }
    }
}
