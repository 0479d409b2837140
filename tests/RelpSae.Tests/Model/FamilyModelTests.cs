using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// The Llama-family and GPT-NeoX models as a caller sees them: the exact backward against central finite
/// differences of the forward, restarts from a residual hook, hooks, and one-line errors for bad folders.
/// </summary>
public class FamilyModelTests
{
    private static readonly int[] Tokens = [1, 5, 9, 33, 2, 60, 1, 17, 40, 8, 8, 21];

    /// <summary>
    /// Every random fixture at block 0's resid_pre and, where it has one, the last block's resid_mid (a trained
    /// model's gradients are too small against its metric's float rounding for central differences).
    /// </summary>
    public static TheoryData<string, string> FirstAndLastHooks()
    {
        var data = new TheoryData<string, string>();
        foreach (var f in Families.All.Where(f => !f.Trained))
        {
            data.Add(f.Folder, "blocks.0.hook_resid_pre");
            var mid = new HookPoint(HookKind.ResidMid, f.Load().Facts.NLayers - 1);
            if (f.Load().Facts.IsResidual(mid)) data.Add(f.Folder, mid.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FirstAndLastHooks))]
    public void ExactBackwardMatchesFiniteDifferences(string folder, string hookName)
    {
        var model = Families.Named(folder).Load();
        var hook = model.Facts.ParseHook(hookName);
        var metric = new Metric(MetricKind.LogitDiff, 7, 3);
        using var full = model.Forward(Tokens, 2, new RunOptions { KeepForBackward = true, Cache = [hook] });
        var x = full.Cached(hook);
        var grad = full.Backward([metric], hook, PropagationRules.Gradient);
        double M(float[] activation)
        {
            using var run = model.ForwardFrom(hook, activation, 2, 6);
            return run.MetricValues([metric]).Sum();
        }
        Assert.Equal(full.MetricValues([metric]).Sum(), M(x), 1e-4);   // the restart reproduces the pass
        const float h = 1e-2f;
        double scale = grad.Max(v => Math.Abs(v));
        // Rows of both sequences, early and late positions (attention carries gradient back to them).
        int d = model.Facts.DModel;
        foreach (int i in new[] { 3, d + 8, 2 * d + 6, 3 * d + 4, 6 * d + 5, 8 * d - 1, 11 * d + 17 })
        {
            var p = (float[])x.Clone(); p[i] += h;
            var m = (float[])x.Clone(); m[i] -= h;
            Assert.True(Math.Abs((M(p) - M(m)) / (2 * h) - grad[i]) < 3e-3 * scale, $"{folder} {hookName} [{i}]: {(M(p) - M(m)) / (2 * h)} vs {grad[i]}");
        }
    }

    public static TheoryData<string> Models => Families.Folders();

    /// <summary>Each catalogue line says what its fixture is: the architecture, width and gating the loader finds, and golden data where it claims some.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void TheCatalogueDescribesEachFixture(string folder)
    {
        var family = Families.Named(folder);
        var facts = family.Load().Facts;
        Assert.Equal((family.Architecture, family.Width, family.GatedMlp), (facts.Architecture, facts.DModel, facts.GatedMlp));
        Assert.Equal(family.Golden, File.Exists(TestPaths.Data(folder, "golden.json")));
    }

    [Fact]
    public void LastPositionLogitsAreTheLastRowsOfAll()
    {
        var model = LanguageModels.Load(TestPaths.Data("tiny-qwen2"));
        using var all = model.Forward(Tokens, 2, new RunOptions { Logits = LogitRows.All });
        using var last = model.Forward(Tokens, 2);
        Assert.Equal(2 * 64, last.Logits.Length);
        for (int b = 0; b < 2; b++)
            for (int v = 0; v < 64; v++) Assert.Equal(all.Logits[(b * 6 + 5) * 64 + v], last.Logits[b * 64 + v], 1e-5);
    }

    [Fact]
    public void HooksUseTransformerLensNamesAndParallelBlocksHaveNoResidMid()
    {
        var llama = LanguageModels.Load(TestPaths.Data("stories260K-llama"));
        Assert.Equal("LlamaForCausalLM", llama.Facts.Architecture);
        Assert.Equal((64, 5, 8, 8, 172), (llama.Facts.DModel, llama.Facts.NLayers, llama.Facts.NHeads, llama.Facts.DHead, llama.Facts.DMlp));
        var hooks = new[] { "blocks.1.hook_resid_pre", "blocks.1.attn.hook_pattern", "blocks.1.attn.hook_z", "blocks.1.hook_attn_out",
            "blocks.1.hook_resid_mid", "blocks.1.mlp.hook_post", "blocks.1.hook_mlp_out", "blocks.1.hook_resid_post" };
        using var run = llama.Forward([1, 300, 72], 1, new RunOptions { Cache = [.. hooks.Select(llama.Facts.ParseHook)] });
        foreach (var name in hooks)
            Assert.Equal(3 * llama.Facts.Width(llama.Facts.ParseHook(name), 3), run.Cache[name].Length);
        // resid_mid = resid_pre + attn_out; resid_post = resid_mid + mlp_out.
        for (int i = 0; i < 3 * 64; i++)
        {
            Assert.Equal(run.Cache["blocks.1.hook_resid_pre"][i] + run.Cache["blocks.1.hook_attn_out"][i], run.Cache["blocks.1.hook_resid_mid"][i], 1e-5);
            Assert.Equal(run.Cache["blocks.1.hook_resid_mid"][i] + run.Cache["blocks.1.hook_mlp_out"][i], run.Cache["blocks.1.hook_resid_post"][i], 1e-5);
        }
        var neox = LanguageModels.Load(TestPaths.Data("tiny-neox"));
        Assert.True(neox.Facts.ParallelResidual);
        Assert.Contains("no hook point \"blocks.0.hook_resid_mid\"", Assert.Throws<RelpSaeException>(() => neox.Facts.ParseHook("blocks.0.hook_resid_mid")).Message);
        Assert.IsType<Gpt2>(LanguageModels.Load(TestPaths.Data("tarot-gpt2")));
    }

    [Fact]
    public void TheAttentionHeadRuleStopsTheScoreGradient()
    {
        // With the pattern frozen, gradient reaches earlier positions only through the values: a
        // different, but still non-zero gradient; with all rules off it is the exact one.
        var model = LanguageModels.Load(TestPaths.Data("tiny-qwen2"));
        using var run = model.Forward(Tokens, 2, new RunOptions { KeepForBackward = true });
        var hook = new HookPoint(HookKind.ResidPre, 0);
        var metric = new Metric(MetricKind.LogitDiff, 7, 3);
        var exact = run.Backward([metric], hook, PropagationRules.Gradient);
        var ah = run.Backward([metric], hook, PropagationRules.Parse("ah"));
        Assert.NotEqual(exact, ah);
        Assert.Contains(ah.Take(32), v => v != 0);
    }

    private static string CopyOf(string folder)
    {
        var dir = Directory.CreateTempSubdirectory("relp-family-").FullName;
        foreach (var f in Directory.GetFiles(TestPaths.Data(folder))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    [Fact]
    public void BadFoldersGiveOneLineErrorsNamingFileAndKey()
    {
        var dir = CopyOf("tiny-qwen2");
        try
        {
            string config = Path.Combine(dir, "config.json");
            string text = File.ReadAllText(config);

            File.WriteAllText(config, text.Replace("Qwen2ForCausalLM", "FalconForCausalLM").Replace("\"qwen2\"", "\"falcon\""));
            var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
            Assert.Contains("architecture 'FalconForCausalLM' (model_type 'falcon') is not supported", e.Message);
            Assert.Contains("config.json", e.Message);

            File.WriteAllText(config, text.Replace("\"intermediate_size\": 48", "\"intermediate_size\": 40"));
            e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
            Assert.Contains("model-0000", e.Message);
            Assert.Contains("mlp.", e.Message);
            Assert.Contains("config.json implies [", e.Message);

            File.WriteAllText(config, text.Replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"));
            Assert.Contains("num_key_value_heads 3 does not divide num_attention_heads 4", Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir)).Message);

            File.WriteAllText(config, text);
            File.Delete(Path.Combine(dir, "model-00002-of-00002.safetensors"));
            e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
            Assert.Contains("model.safetensors.index.json: shard 'model-00002-of-00002.safetensors'", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AMistralConfigRunsTheSameBlocksWithinItsSlidingWindow()
    {
        var dir = CopyOf("stories260K-llama");
        try
        {
            string config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, File.ReadAllText(config).Replace("LlamaForCausalLM", "MistralForCausalLM")
                .Replace("\"llama\"", "\"mistral\"").Replace("\"tie_word_embeddings\"", "\"sliding_window\": 8, \"tie_word_embeddings\""));
            var mistral = LanguageModels.Load(dir);
            var llama = LanguageModels.Load(TestPaths.Data("stories260K-llama"));
            Assert.Equal(("MistralForCausalLM", 8), (mistral.Facts.Architecture, mistral.Facts.Context));
            using var a = mistral.Forward([1, 300, 72], 1);
            using var b = llama.Forward([1, 300, 72], 1);
            Assert.Equal(b.Logits, a.Logits);
            Assert.Contains("longer than the model's context of 8", Assert.Throws<RelpSaeException>(() => mistral.Forward(new int[9], 1)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ARotaryFractionGivingNoRotaryDimsIsRefused()
    {
        var dir = CopyOf("tiny-neox");
        try
        {
            string config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, File.ReadAllText(config).Replace("\"rotary_pct\": 0.5", "\"rotary_pct\": 0.1"));
            Assert.Contains("rotary_pct", Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
