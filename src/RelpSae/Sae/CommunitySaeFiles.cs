using System.Text.RegularExpressions;
using RelpSae.Formats;

namespace RelpSae.Sae;

/// <summary>
/// SAEs in the formats other communities publish, loaded into the same <see cref="SparseAutoencoder"/>:
/// Gemma Scope's <c>params.npz</c> (JumpReLU; W_enc [d_in, d_sae], W_dec, b_enc, b_dec, threshold; the
/// input is not shifted by b_dec), Gemma Scope 2's <c>params.safetensors</c> (the same SAE, its tensors named in
/// lower case) and the <c>ae.pt</c> state dicts of the dictionary_learning library (the Pythia-70m SAEs of
/// "Sparse Feature Circuits"), read through the restricted unpickler.
/// </summary>
public static class CommunitySaeFiles
{
    /// <summary>The one file of a Gemma Scope 2 SAE, in its resid_post/layer_N_… or mlp_out/layer_N_… folder.</summary>
    public const string GemmaScope2File = "params.safetensors";

    /// <summary>Loads a community file by its name: .npz (Gemma Scope), params.safetensors (Gemma Scope 2) or .pt (dictionary_learning).</summary>
    public static SparseAutoencoder Load(string path) =>
        path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) ? LoadGemmaScope(path)
        : Path.GetFileName(path) == GemmaScope2File ? LoadGemmaScope2(path)
        : LoadDictionaryLearning(path);

    /// <summary>
    /// A Gemma Scope params.npz. The file does not say where the SAE reads: <paramref name="hookName"/>,
    /// or blocks.N.hook_resid_post when the path has Gemma Scope's layer_N folder.
    /// </summary>
    public static SparseAutoencoder LoadGemmaScope(string path, string? hookName = null)
    {
        int dIn = 0, dSae = 0;
        var arrays = NpzFile.Read(path, headers => (dIn, dSae) = CheckGemmaScope(headers, path, "array", name => name));
        return SparseAutoencoder.FromTensors(GemmaScopeConfig(dIn, dSae, hookName ?? LayerHook(path)), arrays.Values, path);
    }

    /// <summary>
    /// A Gemma Scope 2 params.safetensors, as SAELens' gemma_3 converter reads it: w_enc [d_in, d_sae], w_dec, b_enc,
    /// b_dec, threshold, Gemma Scope's JumpReLU (the input not shifted by b_dec). The file does not say where the SAE
    /// reads: <paramref name="hookName"/>, or the hook its resid_post/layer_N_… or mlp_out/layer_N_… folder names.
    /// </summary>
    public static SparseAutoencoder LoadGemmaScope2(string path, string? hookName = null) => ReadGemmaScope2(path, hookName ?? SiteHook(path), skip: false).Sae;

    /// <summary>
    /// A Gemma Scope 2 transcoder's params.safetensors: the SAE's tensors and, for the affine ones, affine_skip_connection
    /// [d_in, d_out], which adds x·A to the output (Gemma Scope's JumpReLUSAE; SAELens stores its transpose as W_skip).
    /// </summary>
    public static (SparseAutoencoder Sae, float[]? AffineSkip) LoadGemmaScope2Transcoder(string path, string hookName) => ReadGemmaScope2(path, hookName, skip: true);

    private const string AffineSkip = "affine_skip_connection";

    private static (SparseAutoencoder Sae, float[]? AffineSkip) ReadGemmaScope2(string path, string? hookName, bool skip)
    {
        using var file = SafetensorsFile.Open(path);
        var (dIn, dSae) = CheckGemmaScope([.. file.Entries.Select(e => new TensorHeader(e.Name, e.Shape, e.DType))], path, "tensor", name => name.ToLowerInvariant(), skip);
        var tensors = new[] { "W_enc", "W_dec", "b_enc", "b_dec", "threshold" }.Select(name => file.ReadFloat(name.ToLowerInvariant()) with { Name = name });
        return (SparseAutoencoder.FromTensors(GemmaScopeConfig(dIn, dSae, hookName), tensors, path), file.Contains(AffineSkip) ? file.ReadFloat(AffineSkip).Data : null);
    }

    private static SaeConfig GemmaScopeConfig(int dIn, int dSae, string? hookName) => new()
    {
        Architecture = SaeArchitecture.JumpRelu, DIn = dIn, DSae = dSae, ApplyBDecToInput = false, HookName = hookName,
    };

    /// <summary>
    /// Names, shapes and types from the headers, checked before any array is allocated: exactly the five arrays of a
    /// Gemma Scope SAE (W_enc, W_dec, b_enc, b_dec, threshold as <paramref name="stored"/> names them), floating point,
    /// each of the shape W_enc's [d_in, d_sae] implies, and the matrices small enough for one array; with
    /// <paramref name="skip"/>, a transcoder's affine_skip_connection [d_in, d_in] if present.
    /// </summary>
    private static (int DIn, int DSae) CheckGemmaScope(IReadOnlyList<TensorHeader> declared, string path, string kind, Func<string, string> stored, bool skip = false)
    {
        var headers = declared.ToDictionary(h => h.Name, StringComparer.Ordinal);
        string enc = stored("W_enc");
        var wEnc = headers.TryGetValue(enc, out var w) && w.Shape.Length == 2 ? w
            : throw new RelpSaeException($"{path}: {kind} '{enc}' [d_in, d_sae] is missing or not a matrix");
        int dIn = wEnc.Shape[0], dSae = wEnc.Shape[1];
        if ((long)dIn * dSae > Array.MaxLength)
            throw new RelpSaeException($"{path}: {kind} '{enc}' [{dIn}, {dSae}] is more elements than one array can hold");
        var expected = new Dictionary<string, int[]> { [enc] = [dIn, dSae], [stored("W_dec")] = [dSae, dIn], [stored("b_enc")] = [dSae], [stored("b_dec")] = [dIn], [stored("threshold")] = [dSae] };
        if (skip && headers.ContainsKey(AffineSkip)) expected[AffineSkip] = [dIn, dIn];
        foreach (var (name, shape) in expected)
        {
            if (!headers.TryGetValue(name, out var h) || !h.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"{path}: {kind} '{name}' {(h is null ? "is missing" : $"has shape [{string.Join(", ", h.Shape)}]")}; {enc} [{dIn}, {dSae}] implies [{string.Join(", ", shape)}]");
            if (!h.DType.IsFloat())
                throw new RelpSaeException($"{path}: {kind} '{name}' is {h.DType}; SAE weights must be floating point");
        }
        if (headers.Keys.FirstOrDefault(n => !expected.ContainsKey(n)) is { } extra)
            throw new RelpSaeException($"{path}: {kind} '{extra}' is not part of a Gemma Scope SAE ({string.Join(", ", expected.Keys)})");
        return (dIn, dSae);
    }

    /// <summary>
    /// A dictionary_learning ae.pt: the standard AutoEncoder (encoder.weight [d_sae, d_in], encoder.bias,
    /// decoder.weight [d_in, d_sae], bias = b_dec, subtracted from the input), the top-k one (b_dec and a
    /// k buffer), or the JumpReLU one (W_enc, W_dec, b_enc, b_dec, threshold, already in SAELens' layout).
    /// </summary>
    public static SparseAutoencoder LoadDictionaryLearning(string path, string? hookName = null)
    {
        hookName ??= SubmoduleHook(path);
        var t = PyTorchBin.Read(path, plan: declared => CheckDictionary(declared, path));
        if (t.ContainsKey("W_enc"))
        {
            var w = t["W_enc"];
            var jump = new SaeConfig { Architecture = SaeArchitecture.JumpRelu, DIn = w.Shape[0], DSae = w.Shape[1], HookName = hookName };
            return SparseAutoencoder.FromTensors(jump, t.Values, path);
        }
        FloatTensor Take(string name) => t.Remove(name, out var v) ? v : throw new RelpSaeException($"{path}: tensor '{name}' is missing (not a dictionary_learning AutoEncoder)");
        var encoder = Take("encoder.weight");
        if (encoder.Shape.Length != 2) throw new RelpSaeException($"{path}: tensor 'encoder.weight' is not a matrix");
        int dSae = encoder.Shape[0], dIn = encoder.Shape[1];
        var bEnc = Take("encoder.bias");
        var decoder = Take("decoder.weight");
        bool topK = t.ContainsKey("k");
        var bDec = Take(topK ? "b_dec" : "bias");
        int k = topK ? TopK(Take("k").Data.Single(), dSae, path) : 0;
        t.Remove("threshold");   // top-k's inference threshold buffer: unused by the top-k activation itself
        if (t.Count > 0) throw new RelpSaeException($"{path}: unexpected tensor '{t.Keys.First()}' for a dictionary_learning AutoEncoder");
        var config = new SaeConfig
        {
            Architecture = topK ? SaeArchitecture.TopK : SaeArchitecture.Standard, DIn = dIn, DSae = dSae, K = k, HookName = hookName,
        };
        if (!decoder.Shape.SequenceEqual([dIn, dSae]))
            throw new RelpSaeException($"{path}: tensor 'decoder.weight' has shape [{string.Join(", ", decoder.Shape)}], encoder.weight implies [{dIn}, {dSae}]");
        return SparseAutoencoder.FromTensors(config,
        [
            new FloatTensor("W_enc", [dIn, dSae], Transpose(encoder.Data, dSae, dIn)), bEnc with { Name = "b_enc" },
            new FloatTensor("W_dec", [dSae, dIn], Transpose(decoder.Data, dIn, dSae)), bDec with { Name = "b_dec" },
        ], path);
    }

    /// <summary>
    /// The declared tensors of an ae.pt, checked before any is read: one of the three layouts, each tensor
    /// floating point (k an integer) and of the shape the encoder's implies.
    /// </summary>
    private static IReadOnlySet<string> CheckDictionary(IReadOnlyList<TensorHeader> declared, string path)
    {
        var byName = declared.ToDictionary(h => h.Name, StringComparer.Ordinal);
        int dIn, dSae;
        Dictionary<string, int[]> expected;
        if (byName.TryGetValue("W_enc", out var w) && w.Shape.Length == 2)
        {
            (dIn, dSae) = (w.Shape[0], w.Shape[1]);
            expected = new() { ["W_enc"] = [dIn, dSae], ["W_dec"] = [dSae, dIn], ["b_enc"] = [dSae], ["b_dec"] = [dIn], ["threshold"] = [dSae] };
        }
        else if (byName.TryGetValue("encoder.weight", out var e) && e.Shape.Length == 2)
        {
            (dSae, dIn) = (e.Shape[0], e.Shape[1]);
            expected = new() { ["encoder.weight"] = [dSae, dIn], ["encoder.bias"] = [dSae], ["decoder.weight"] = [dIn, dSae] };
            if (byName.ContainsKey("k"))
            {
                // Top-k: k and the inference threshold are scalar buffers.
                expected["b_dec"] = [dIn];
                expected["k"] = [];
                if (byName.ContainsKey("threshold")) expected["threshold"] = [];
            }
            else expected["bias"] = [dIn];
        }
        else throw new RelpSaeException($"{path}: tensor 'encoder.weight' is missing or not a matrix, nor is there a 'W_enc' (not a dictionary_learning AutoEncoder)");
        foreach (var (name, shape) in expected)
        {
            if (!byName.TryGetValue(name, out var h))
                throw new RelpSaeException($"{path}: tensor '{name}' is missing (not a dictionary_learning AutoEncoder)");
            if (!h.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"{path}: tensor '{name}' has shape [{string.Join(", ", h.Shape)}]; the encoder's d_in {dIn}, d_sae {dSae} imply [{string.Join(", ", shape)}]");
            if (name != "k" && !h.DType.IsFloat())
                throw new RelpSaeException($"{path}: tensor '{name}' is {h.DType}; SAE weights must be floating point");
        }
        if (byName.Keys.FirstOrDefault(n => !expected.ContainsKey(n)) is { } extra)
            throw new RelpSaeException($"{path}: unexpected tensor '{extra}' for a dictionary_learning AutoEncoder");
        return new HashSet<string>(byName.Keys, StringComparer.Ordinal);
    }

    /// <summary>k as a count of features: a fractional or out-of-range k is refused rather than truncated.</summary>
    private static int TopK(float k, int dSae, string path) =>
        float.IsInteger(k) && k >= 1 && k <= dSae ? (int)k
        : throw new RelpSaeException($"{path}: tensor 'k' is {k}; top-k needs a whole number of features from 1 to d_sae {dSae}");

    /// <summary>The [cols, rows] transpose of a row-major [rows, cols] matrix, each element times <paramref name="scale"/> (exact for 1).</summary>
    internal static float[] Transpose(float[] a, int rows, int cols, double scale = 1)
    {
        var t = new float[a.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[(long)c * rows + r] = (float)(a[(long)r * cols + c] * scale);
        return t;
    }

    /// <summary>Gemma Scope's folders: layer_N/width_…/average_l0_…/params.npz (the residual stream after block N).</summary>
    private static string? LayerHook(string path)
    {
        var m = Regex.Match(path.Replace('\\', '/'), @"(?:^|/)layer_(\d+)/");
        return m.Success ? $"blocks.{m.Groups[1].Value}.hook_resid_post" : null;
    }

    /// <summary>Gemma Scope 2's folders: resid_post[_all]/layer_N_… and mlp_out[_all]/layer_N_… (block N's residual stream after it, or its MLP's output).</summary>
    private static string? SiteHook(string path)
    {
        var m = Regex.Match(path.Replace('\\', '/'), @"(?:^|/)(resid_post|mlp_out)(?:_all)?/layer_(\d+)_[^/]*/");
        return m.Success ? $"blocks.{m.Groups[2].Value}.hook_{m.Groups[1].Value}" : null;
    }

    /// <summary>dictionary_learning's folders: resid_out_layerN, attn_out_layerN, mlp_out_layerN, embed.</summary>
    private static string? SubmoduleHook(string path)
    {
        var m = Regex.Match(path.Replace('\\', '/'), @"(?:^|/)(resid|attn|mlp)_out_layer(\d+)/");
        if (m.Success)
            return $"blocks.{m.Groups[2].Value}." + m.Groups[1].Value switch { "resid" => "hook_resid_post", "attn" => "hook_attn_out", _ => "hook_mlp_out" };
        return Regex.IsMatch(path.Replace('\\', '/'), @"(?:^|/)embed/") ? "hook_embed" : null;
    }
}
