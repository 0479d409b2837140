using System.Text.RegularExpressions;
using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// Checks a checkpoint's declared tensors against its config before any tensor is read, and names
/// the ones to load: HF GPT2Model names (with or without "transformer."), floating-point weights of
/// the shapes the config implies. Buffers (causal mask) are skipped unread; anything else is refused.
/// </summary>
internal static partial class Gpt2TensorPlan
{
    [GeneratedRegex(@"^h\.(\d+)\.")]
    private static partial Regex LayerPrefix();

    public static IReadOnlySet<string> Check(IReadOnlyList<TensorHeader> headers, Gpt2Config config, string source)
    {
        var byName = new Dictionary<string, TensorHeader>(StringComparer.Ordinal);
        var load = new HashSet<string>(StringComparer.Ordinal);
        foreach (var header in headers)
        {
            string name = Canonical(header.Name);
            if (Gpt2Checkpoint.IsBuffer(name)) continue;
            if (!header.DType.IsFloat())
                throw new RelpSaeException($"{source}: tensor '{header.Name}' is {header.DType}; weights must be floating point (F16, BF16, F32 or F64)");
            if (!byName.TryAdd(name, header))
                throw new RelpSaeException($"{source}: tensor '{name}' appears both with and without the transformer. prefix");
            load.Add(header.Name);
        }
        // The layer count first: the list of expected names grows with n_layer, which the config may overstate.
        long layers = 0;
        foreach (var match in byName.Keys.Select(n => LayerPrefix().Match(n)).Where(m => m.Success))
            layers = Math.Max(layers, long.TryParse(match.Groups[1].ValueSpan, out long l) && l < int.MaxValue ? l + 1 : int.MaxValue);
        if (layers != config.NLayers)
            throw new RelpSaeException($"{source}: config.json says n_layer {config.NLayers} but the checkpoint holds {layers} layers (h.0 to h.{layers - 1})");
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, shape) in Gpt2Checkpoint.ExpectedShapes(config))
        {
            expected.Add(name);
            if (!byName.TryGetValue(name, out var t))
                throw new RelpSaeException($"{source}: tensor '{name}' is missing (expected shape [{string.Join(", ", shape)}])");
            if (!t.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"{source}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}], the config implies [{string.Join(", ", shape)}]");
        }
        var unexpected = byName.Keys.FirstOrDefault(n => n != Gpt2Checkpoint.LmHead && !expected.Contains(n));
        if (unexpected is not null)
            throw new RelpSaeException($"{source}: tensor '{unexpected}' is not part of a GPT-2 model with this config");
        if (byName.TryGetValue(Gpt2Checkpoint.LmHead, out var head) && !head.Shape.SequenceEqual(byName["wte.weight"].Shape))
            throw new RelpSaeException($"{source}: lm_head.weight has shape [{string.Join(", ", head.Shape)}], not wte.weight's; untied output heads are not supported");
        return load;
    }

    public static string Canonical(string name) =>
        name.StartsWith("transformer.", StringComparison.Ordinal) ? name["transformer.".Length..] : name;
}
