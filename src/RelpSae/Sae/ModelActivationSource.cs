using RelpSae.Model;
using RelpSae.Text;

namespace RelpSae.Sae;

/// <summary>How <see cref="ModelActivationSource"/> turns contexts into training rows.</summary>
public sealed record ModelActivationOptions
{
    /// <summary>Rows shuffled together: the rows of ⌊ShuffleRows / rows per context⌋ consecutive contexts (at least one).</summary>
    public int ShuffleRows { get; init; } = 65_536;
    /// <summary>Contexts per model forward.</summary>
    public int ContextsPerForward { get; init; } = 8;
    /// <summary>Leave out each context's first position (BOS when contexts start with one): its residual is an
    /// outlier many times the norm of the others, and SAELens leaves it out too.</summary>
    public bool SkipFirstPosition { get; init; }
    public ulong Seed { get; init; }
}

/// <summary>
/// Training rows from a model: token contexts (in data order, the data read again from the start when it
/// runs out) → a forward pass that stops at the hook → one row per position → rows shuffled in blocks of
/// <see cref="ModelActivationOptions.ShuffleRows"/>. Block b holds the rows of contexts b·C … (b+1)·C − 1 in an
/// order fixed by (seed, b), so row p is the same whenever it is asked for and <see cref="Seek"/> recomputes
/// one block at most (plus re-reading the tokens before it), which is what a bit-identical resume needs.
/// With a target hook (a transcoder's), one pass caches both hooks and each row is the input hook's values followed
/// by the target's at the same position, shuffled as one.
/// </summary>
public sealed class ModelActivationSource : IActivationSource
{
    private readonly ITransformer _model;
    private readonly HookPoint _hook;
    private readonly HookPoint? _target;
    private readonly Func<IEnumerable<int[]>> _contexts;
    private readonly ModelActivationOptions _options;
    private readonly int _firstPosition;
    private readonly float[] _block, _swap;
    private IEnumerator<int[]>? _stream;
    private long _nextContext, _loadedBlock = -1;

    /// <param name="contexts">Reads the data once from the start, as contexts of <paramref name="contextLength"/> tokens.</param>
    /// <param name="target">A transcoder's output hook, computed after <paramref name="hook"/> in the same pass; null for an SAE.</param>
    public ModelActivationSource(ITransformer model, HookPoint hook, Func<IEnumerable<int[]>> contexts, int contextLength, ModelActivationOptions options,
        HookPoint? target = null)
    {
        foreach (var h in target is { } t ? [hook, t] : new[] { hook })
            if (h.Kind == HookKind.AttnPattern)
                throw new RelpSaeException($"{h} has no per-position activation of fixed width to train an SAE on");
        if (contextLength > model.Facts.Context)
            throw new RelpSaeException($"context length {contextLength} is longer than the model's context of {model.Facts.Context} ({model.Facts.ContextKey})");
        _firstPosition = options.SkipFirstPosition ? 1 : 0;
        if (contextLength <= _firstPosition)
            throw new RelpSaeException($"context length {contextLength} leaves no positions to train on");
        if (options.ShuffleRows <= 0 || options.ContextsPerForward <= 0)
            throw new RelpSaeException("shuffle buffer rows and contexts per forward must be positive");
        _model = model;
        _hook = hook;
        _target = target;
        _contexts = contexts;
        _options = options;
        ContextLength = contextLength;
        DIn = model.Facts.Width(hook, contextLength);
        DOut = target is { } output ? model.Facts.Width(output, contextLength) : 0;
        RowsPerContext = contextLength - _firstPosition;
        ContextsPerBlock = Math.Max(1, options.ShuffleRows / RowsPerContext);
        long values = (long)ContextsPerBlock * RowsPerContext * RowWidth;
        if (values > Array.MaxLength)
            throw new SettingException(name => $"{name(Setting.ShuffleRows)} {options.ShuffleRows} of width {RowWidth} is {values} values, more than one buffer can hold (at most {Array.MaxLength / RowWidth} rows)");
        _block = new float[values];
        _swap = new float[RowWidth];
    }

    /// <summary>Packs a text data set (.txt, .jsonl, .parquet) with the model's tokenizer, or a .jsonl of token ids for a
    /// model without one (<see cref="Documents.ReadTokens"/>), into the contexts of <paramref name="packing"/>.</summary>
    public static ModelActivationSource FromText(ModelFolder model, HookPoint hook, string dataPath, PackingOptions packing,
        ModelActivationOptions options, string textField = "text", HookPoint? target = null)
    {
        var packer = new ContextPacker(packing);
        return new ModelActivationSource(model.Transformer, hook,
            () => packer.Pack(Documents.ReadTokens(dataPath, textField, model.Tokenizer)), packing.ContextLength, options, target);
    }

    public int DIn { get; }
    public int DOut { get; }
    private int RowWidth => DIn + DOut;
    public int ContextLength { get; }
    public int RowsPerContext { get; }
    public int ContextsPerBlock { get; }
    public long Position { get; private set; }
    /// <summary>Contexts in one pass over the data, once a pass has ended (null before).</summary>
    public long? ContextsPerPass { get; private set; }
    /// <summary>Contexts read so far, across passes.</summary>
    public long ContextsRead => _nextContext;

    private long BlockRows => (long)ContextsPerBlock * RowsPerContext;

    public int Read(Span<float> rows)
    {
        int wanted = rows.Length / RowWidth;
        for (int done = 0; done < wanted;)
        {
            long block = Position / BlockRows;
            if (block != _loadedBlock) Load(block);
            int offset = (int)(Position - block * BlockRows);
            int n = (int)Math.Min(wanted - done, BlockRows - offset);
            _block.AsSpan(offset * RowWidth, n * RowWidth).CopyTo(rows.Slice(done * RowWidth));
            done += n;
            Position += n;
        }
        return wanted;
    }

    public void Seek(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        Position = position;
    }

    /// <summary>Computes block b: its contexts' activations, then a Fisher–Yates shuffle of the rows.</summary>
    private void Load(long block)
    {
        long first = block * ContextsPerBlock;
        if (_stream is null || first < _nextContext)
        {
            _stream?.Dispose();
            _stream = Loop().GetEnumerator();
            _nextContext = 0;
        }
        while (_nextContext < first) Next();

        int T = ContextLength, batch = _options.ContextsPerForward;
        var tokens = new int[batch * T];
        for (int c = 0; c < ContextsPerBlock; c += batch)
        {
            int b = Math.Min(batch, ContextsPerBlock - c);
            for (int i = 0; i < b; i++) Next().CopyTo(tokens, i * T);
            Store(tokens.AsSpan(0, b * T), b, c);
        }

        var rng = new DeterministicRandom(_options.Seed ^ (0xB10C_5EED_0000_0000UL + (ulong)block));
        for (long i = BlockRows - 1; i > 0; i--)
        {
            long j = (long)(rng.NextDouble() * (i + 1));
            if (j == i) continue;
            var a = _block.AsSpan((int)(i * RowWidth), RowWidth);
            var z = _block.AsSpan((int)(j * RowWidth), RowWidth);
            a.CopyTo(_swap);
            z.CopyTo(a);
            _swap.CopyTo(z);
        }
        _loadedBlock = block;
    }

    /// <summary>The rows of <paramref name="batch"/> contexts, from block context <paramref name="first"/> on: the hook's
    /// activations, each row followed by the target's when there is one.</summary>
    private void Store(ReadOnlySpan<int> tokens, int batch, int first)
    {
        int T = ContextLength, rows = RowsPerContext;
        if (_target is not { } target)
        {
            var activation = _model.ActivationAt(_hook, tokens, batch);
            for (int i = 0; i < batch; i++)
                activation.AsSpan((i * T + _firstPosition) * DIn, rows * DIn).CopyTo(_block.AsSpan((first + i) * rows * DIn));
            return;
        }
        using var run = _model.Forward(tokens, batch, new RunOptions { Cache = [_hook, target], StopAfter = target, Logits = LogitRows.None });
        var input = run.Cached(_hook);
        var output = run.Cached(target);
        for (int i = 0; i < batch; i++)
            for (int r = 0; r < rows; r++)
            {
                int position = i * T + _firstPosition + r;
                var row = _block.AsSpan(((first + i) * rows + r) * RowWidth, RowWidth);
                input.AsSpan(position * DIn, DIn).CopyTo(row);
                output.AsSpan(position * DOut, DOut).CopyTo(row[DIn..]);
            }
    }

    private int[] Next()
    {
        _stream!.MoveNext();
        _nextContext++;
        return _stream.Current;
    }

    /// <summary>The data's contexts pass after pass, each checked for length.</summary>
    private IEnumerable<int[]> Loop()
    {
        while (true)
        {
            long count = 0;
            foreach (var context in _contexts())
            {
                if (context.Length != ContextLength)
                    throw new RelpSaeException($"a context of {context.Length} tokens where {ContextLength} were expected");
                count++;
                yield return context;
            }
            if (count == 0)
                throw new RelpSaeException($"the data gives no full context of {ContextLength} tokens");
            ContextsPerPass ??= count;
        }
    }
}
