using System.Text.Json;
using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// The hyper-parameters of a GPT-2-family model (Hugging Face config.json names in comments), read from
/// config.json refusing what we cannot run.
/// </summary>
public sealed record Gpt2Config(
    int VocabSize,        // vocab_size
    int NPositions,       // n_positions (or n_ctx)
    int DModel,           // n_embd
    int NLayers,          // n_layer
    int NHeads,           // n_head
    int DMlp,             // n_inner, null → 4·n_embd
    float LayerNormEps,   // layer_norm_epsilon
    string Activation,    // activation_function: only gelu_new (and its alias gelu_pytorch_tanh) is supported
    int BosTokenId)       // bos_token_id: <|endoftext|>, 50256 for GPT-2
{
    public int DHead => DModel / NHeads;

    public ModelFacts Facts => new("GPT2LMHeadModel", VocabSize, NPositions, DModel, NLayers, NHeads, DHead, DMlp, BosTokenId,
        GatedMlp: false, ParallelResidual: false, ContextKey: "n_positions", WidthKey: "n_embd", LearnedPositions: true);

    public static Gpt2Config Read(string path)
    {
        var text = SideFile.ReadText(path);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new RelpSaeException($"{path}: not valid JSON ({e.Message.Split('\n')[0]})");
        }
        using (doc)
            return Parse(doc.RootElement, path);
    }

    private static Gpt2Config Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new RelpSaeException($"{path}: not a JSON object");
        string modelType = String(root, "model_type", path);
        if (modelType != "gpt2")
            throw new RelpSaeException($"{path}: model_type is '{modelType}', only 'gpt2' is supported");
        string activation = String(root, "activation_function", path);
        if (activation is not ("gelu_new" or "gelu_pytorch_tanh"))
            throw new RelpSaeException($"{path}: activation_function '{activation}' is not supported (only gelu_new and gelu_pytorch_tanh)");

        int dModel = Positive(root, "n_embd", path);
        int nHeads = Positive(root, "n_head", path);
        if (dModel % nHeads != 0)
            throw new RelpSaeException($"{path}: n_embd {dModel} is not divisible by n_head {nHeads}");
        int nPositions = root.TryGetProperty("n_positions", out _) ? Positive(root, "n_positions", path) : Positive(root, "n_ctx", path);
        long dMlp = root.TryGetProperty("n_inner", out var inner) && inner.ValueKind != JsonValueKind.Null
            ? Positive(root, "n_inner", path) : 4L * dModel;
        double eps = root.TryGetProperty("layer_norm_epsilon", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble()
            : throw new RelpSaeException($"{path}: layer_norm_epsilon is missing or not a number");
        if (!(eps > 0 && eps < 1))
            throw new RelpSaeException($"{path}: layer_norm_epsilon {eps} is not in (0, 1)");
        int vocab = Positive(root, "vocab_size", path);
        int bos = root.TryGetProperty("bos_token_id", out var b) && b.ValueKind != JsonValueKind.Null ? NonNegative(b, "bos_token_id", path) : 50256;
        if (bos >= vocab)
            throw new RelpSaeException($"{path}: bos_token_id {bos} is outside the vocabulary of {vocab}");
        // Every weight matrix must fit one array: n_embd 10⁹ would otherwise overflow the shapes.
        foreach (var (what, rows, cols) in new[] { ("wte", (long)vocab, (long)dModel), ("wpe", nPositions, dModel), ("c_attn", dModel, 3L * dModel), ("c_fc", dModel, dMlp) })
            if (rows * cols > Array.MaxLength)
                throw new RelpSaeException($"{path}: n_embd {dModel} makes {what} [{rows}, {cols}], more elements than one array can hold");
        return new Gpt2Config(vocab, nPositions, dModel, Positive(root, "n_layer", path), nHeads, (int)dMlp, (float)eps, "gelu_new", bos);
    }

    private static string String(JsonElement root, string key, string path) =>
        root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new RelpSaeException($"{path}: {key} is missing or not a string");

    private static int Positive(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var v)) throw new RelpSaeException($"{path}: {key} is missing");
        int n = NonNegative(v, key, path);
        return n > 0 ? n : throw new RelpSaeException($"{path}: {key} is 0, must be positive");
    }

    private static int NonNegative(JsonElement v, string key, string path) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= 0 ? n
            : throw new RelpSaeException($"{path}: {key} is {v.GetRawText()}, not a non-negative integer");
}
