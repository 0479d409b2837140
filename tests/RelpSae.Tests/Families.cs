using RelpSae.Model;

namespace RelpSae.Tests;

/// <summary>
/// A model fixture the family tests run: its folder under TestData, config.json's architecture, its width
/// (d_model, what an SAE on it reads), whether its MLP is gated (the Half-rule acts on it), whether its weights
/// were trained (else drawn at random), whether it has a golden.json from the independent PyTorch pass
/// (scripts/llama_neox_reference.py), and whether the slow end-to-end tests (the CLI's commands) run it, which
/// one fixture per family does (GPT-2's are the CLI tests' own, on tarot-gpt2 and the embedded model).
/// </summary>
internal sealed record Family(string Folder, string Architecture, int Width, bool GatedMlp, bool Trained, bool Golden, bool EndToEnd)
{
    public ITransformer Load() => LanguageModels.Load(TestPaths.Data(Folder));
}

/// <summary>
/// Every model fixture, one line each: the family theories read their cases from here, so that a new family
/// joins them with one line and its fixture folder (with golden.json from the PyTorch reference).
/// </summary>
internal static class Families
{
    public static readonly Family[] All =
    [
        new("tarot-gpt2", "GPT2LMHeadModel", 128, GatedMlp: false, Trained: true, Golden: false, EndToEnd: false),
        new("stories260K-llama", "LlamaForCausalLM", 64, GatedMlp: true, Trained: true, Golden: true, EndToEnd: true),
        new("tiny-qwen2", "Qwen2ForCausalLM", 32, GatedMlp: true, Trained: false, Golden: true, EndToEnd: false),
        new("tiny-llama-mqa", "LlamaForCausalLM", 32, GatedMlp: true, Trained: false, Golden: true, EndToEnd: false),
        new("tiny-gemma2", "Gemma2ForCausalLM", 32, GatedMlp: true, Trained: false, Golden: true, EndToEnd: true),
        new("tiny-gemma2-window", "Gemma2ForCausalLM", 32, GatedMlp: true, Trained: false, Golden: true, EndToEnd: false),
        new("tiny-neox", "GPTNeoXForCausalLM", 32, GatedMlp: false, Trained: false, Golden: true, EndToEnd: true),
        new("tiny-neox-seq", "GPTNeoXForCausalLM", 32, GatedMlp: false, Trained: false, Golden: true, EndToEnd: false),
        new("tiny-qwen3", "Qwen3ForCausalLM", 32, GatedMlp: true, Trained: false, Golden: true, EndToEnd: true),
        new("tiny-llama3-rope", "LlamaForCausalLM", 32, GatedMlp: true, Trained: false, Golden: true, EndToEnd: false),
        new("tiny-gemma3", "Gemma3ForCausalLM", 32, GatedMlp: true, Trained: false, Golden: true, EndToEnd: true),
    ];

    public static Family Named(string folder) => All.Single(f => f.Folder == folder);

    /// <summary>The folders of the fixtures that <paramref name="where"/> picks (all without it), as a theory's cases.</summary>
    public static TheoryData<string> Folders(Func<Family, bool>? where = null)
    {
        var data = new TheoryData<string>();
        foreach (var f in All.Where(where ?? (_ => true))) data.Add(f.Folder);
        return data;
    }

    public static TheoryData<string> WithGolden => Folders(f => f.Golden);
    public static TheoryData<string> EndToEnd => Folders(f => f.EndToEnd);
}
