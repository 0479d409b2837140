namespace RelpSae.Sae;

/// <summary>
/// Per feature, the <c>count</c> distinct tokens with the largest activation, kept while streaming. Exact:
/// a list's smallest value never falls, so a token pushed out cannot belong to the final top list with the
/// value it had, and when it comes back its stored value is its new maximum.
/// </summary>
internal sealed class TopTokenTracker(int dSae, int count)
{
    private readonly int[] _ids = new int[dSae * count];
    private readonly float[] _values = new float[dSae * count];
    private readonly int[] _filled = new int[dSae];

    /// <summary>Feature <paramref name="feature"/> reached <paramref name="value"/> (&gt; 0) on token <paramref name="id"/>.</summary>
    public void Add(int feature, int id, float value)
    {
        var ids = _ids.AsSpan(feature * count, count);
        var values = _values.AsSpan(feature * count, count);
        int n = _filled[feature], min = -1;
        for (int i = 0; i < n; i++)
        {
            if (ids[i] == id)
            {
                if (value > values[i]) values[i] = value;
                return;
            }
            if (min < 0 || values[i] < values[min]) min = i;
        }
        if (n < count) { ids[n] = id; values[n] = value; _filled[feature] = n + 1; }
        else if (value > values[min]) { ids[min] = id; values[min] = value; }
    }

    /// <summary>Feature <paramref name="feature"/>'s tokens, largest activation first.</summary>
    public IEnumerable<(int Id, float Value)> Top(int feature) =>
        Enumerable.Range(feature * count, _filled[feature])
            .Select(i => (_ids[i], _values[i]))
            .OrderByDescending(t => t.Item2).ThenBy(t => t.Item1);
}
