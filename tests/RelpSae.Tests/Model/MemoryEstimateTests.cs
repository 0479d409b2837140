using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Tests.Cli;

namespace RelpSae.Tests.Model;

/// <summary>The memory a model's weights will hold, estimated from headers before loading, against what loading and one backward pass allocate.</summary>
[Collection(nameof(ConsoleCollection))]
public class MemoryEstimateTests
{
    /// <summary>
    /// A random Llama of 5.2M parameters (21 MB as float32) and a random GPT-2 of 4.2M: the managed heap's growth across
    /// loading it and running a forward and a backward pass (both reading the one packed copy of each map, GPT-2's
    /// embeddings and tied head included), less the pass's pooled activations, is the estimate to within 3 % (the
    /// loader's small buffers); and the estimate is one copy of the weights, in the width they are held in.
    /// </summary>
    [Theory]
    [InlineData("llama", false)]
    [InlineData("gpt2", false)]
    [InlineData("gpt2", true)]
    public void TheEstimateIsWhatLoadingAndABackwardHold(string family, bool bf16)
    {
        var dir = family == "llama" ? RandomLlama(d: 256, layers: 4, mlp: 1024, vocab: 4096) : RandomGpt2(d: 256, layers: 4, vocab: 4096);
        var holding = bf16 ? RelpSae.Numerics.PanelElement.BFloat16 : (RelpSae.Numerics.PanelElement?)null;
        var estimate = MemoryEstimate.Of(dir, holding);
        Assert.Equal(family == "llama" ? 4096L * 256 + 4 * (4L * 256 * 256 + 3L * 256 * 1024 + 2 * 256) + 256
            : 4096L * 256 + 64 * 256 + 4 * (12L * 256 * 256 + 13 * 256) + 2 * 256, estimate.Parameters);
        // One packed copy of each matrix op(B) [k × n] (n padded to whole panels), at two or four bytes; norms and biases at four.
        int nr = RelpSae.Numerics.GemmPaths.Tile(RelpSae.Numerics.GemmPath.Best).Cols, size = bf16 ? 2 : 4;
        long Packed(long k, long n, int count = 1) => count * (k * ((n + nr - 1) / nr * nr) * size + 64);
        long oneCopy = family == "llama"
            ? Packed(256, 4096) + Packed(256, 256, 16) + Packed(256, 1024, 8) + Packed(1024, 256, 4) + 4 * 9 * 256
            : Packed(256, 4096) + Packed(256, 64) + Packed(256, 768, 4) + Packed(256, 256, 4) + Packed(256, 1024, 4) + Packed(1024, 256, 4) + 4 * (4 * 13 * 256 + 2 * 256);
        Assert.Equal(oneCopy, estimate.TotalBytes);
        void Pass(ITransformer model)
        {
            using var run = model.Forward([1, 2, 3, 4], 1, new RunOptions { KeepForBackward = true, Logits = LogitRows.Last });
            run.Backward(new Metric(MetricKind.Logit, 5), new HookPoint(HookKind.ResidPre, 0), PropagationRules.Gradient);
        }
        Pass(LanguageModels.Load(dir, holding: holding));   // once, so the GEMM's per-thread buffers and the JIT's code exist before measuring
        // The heap is the process's: a thread that ends meanwhile (a pool thread retiring) frees its GEMM buffers, which can only
        // make the growth smaller, so a growth below the range is measured again; a growth above it fails at once.
        long held = 0;
        for (int attempt = 0; attempt < 3 && held < 0.97 * estimate.TotalBytes; attempt++)
        {
            long before = GC.GetTotalMemory(forceFullCollection: true);
            var model = LanguageModels.Load(dir, holding: holding);
            Pass(model);
            held = GC.GetTotalMemory(forceFullCollection: true) - before - 4 * Pooled(model);
            GC.KeepAlive(model);
        }
        Assert.InRange(held, 0.97 * estimate.TotalBytes, 1.03 * estimate.TotalBytes);
    }

    private static string RandomLlama(int d, int layers, int mlp, int vocab)
    {
        var dir = Directory.CreateTempSubdirectory("relp-memory-").FullName;
        File.WriteAllText(Path.Combine(dir, "config.json"), $$"""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": {{vocab}}, "hidden_size": {{d}}, "num_hidden_layers": {{layers}},
             "num_attention_heads": 4, "num_key_value_heads": 4, "intermediate_size": {{mlp}}, "max_position_embeddings": 64,
             "rms_norm_eps": 1e-5, "rope_theta": 10000, "tie_word_embeddings": true, "bos_token_id": 1}
            """);
        var rng = new Random(1);
        RelpSae.Formats.FloatTensor T(string name, params int[] shape) =>
            new(name, shape, [.. Enumerable.Range(0, shape.Aggregate(1, (n, s) => n * s)).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.1f)]);
        var tensors = new List<RelpSae.Formats.FloatTensor> { T("model.embed_tokens.weight", vocab, d), T("model.norm.weight", d) };
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            tensors.AddRange([T(p + "input_layernorm.weight", d), T(p + "post_attention_layernorm.weight", d),
                T(p + "self_attn.q_proj.weight", d, d), T(p + "self_attn.k_proj.weight", d, d), T(p + "self_attn.v_proj.weight", d, d), T(p + "self_attn.o_proj.weight", d, d),
                T(p + "mlp.gate_proj.weight", mlp, d), T(p + "mlp.up_proj.weight", mlp, d), T(p + "mlp.down_proj.weight", d, mlp)]);
        }
        RelpSae.Formats.SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
        return dir;
    }

    /// <summary>
    /// A random GPT-2 (as Gpt2Weights.Random draws it) in a model folder, float32, in GPT2Model's names, with the float
    /// causal-mask buffers openai-community/gpt2 ships (h.N.attn.bias [1, 1, P, P]), which are neither loaded nor counted.
    /// </summary>
    private static string RandomGpt2(int d, int layers, int vocab)
    {
        var dir = Directory.CreateTempSubdirectory("relp-memory-").FullName;
        var config = new Gpt2Config(vocab, NPositions: 64, d, layers, NHeads: 4, DMlp: 4 * d, LayerNormEps: 1e-5f, "gelu_new", BosTokenId: 0);
        File.WriteAllText(Path.Combine(dir, "config.json"), $$"""
            {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": {{vocab}}, "n_embd": {{d}}, "n_layer": {{layers}}, "n_head": 4,
             "n_positions": 64, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "bos_token_id": 0}
            """);
        var mask = Enumerable.Range(0, 64 * 64).Select(i => i % 64 <= i / 64 ? 1f : 0f).ToArray();
        var buffers = Enumerable.Range(0, layers).Select(l => new RelpSae.Formats.FloatTensor($"h.{l}.attn.bias", [1, 1, 64, 64], mask));
        RelpSae.Formats.SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), [.. Gpt2Weights.Random(config, seed: 1).ToTensors().Values, .. buffers]);
        return dir;
    }

    private static long Pooled(ITransformer model) =>
        (model.GetType().GetProperty("Pool", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(model) as RelpSae.Numerics.FloatPool)!.HeldFloats;

    [Fact]
    public void AModelLargerThanTheMemoryLimitStopsBeforeLoadingInOneLine()
    {
        var limit = AvailableMemory.LimitVariable;
        Environment.SetEnvironmentVariable(limit, "1M");
        try
        {
            var (code, _, error) = CliHarness.Run("attribute", "--prompt", "The Tower");
            Assert.Equal(2, code);
            Assert.Matches(@"^error: .*: the weights need \d+ MiB \(0\.9M parameters held as stored\), more than the 1 MiB of memory available: run it on a machine with more memory\n$", error);
        }
        finally { Environment.SetEnvironmentVariable(limit, null); }
        Assert.Equal(0, CliHarness.Run("attribute", "--prompt", "The Tower", "--methods", "gradient").Code);
    }

    [Fact]
    public void AModelThatFitsOnlyInBFloat16IsToldSoAndRunsWithIt()
    {
        var model = RelpSae.Cli.CliDefaults.EmbeddedModel;
        var (wide, narrow) = (MemoryEstimate.Of(model), MemoryEstimate.Of(model, RelpSae.Numerics.PanelElement.BFloat16));
        Assert.InRange(narrow.PackedBytes, 0.45 * wide.PackedBytes, 0.55 * wide.PackedBytes);
        var limit = AvailableMemory.LimitVariable;
        Environment.SetEnvironmentVariable(limit, (narrow.TotalBytes + 1).ToString());
        try
        {
            var (code, _, error) = CliHarness.Run("attribute", "--prompt", "The Tower", "--methods", "gradient");
            Assert.Equal(2, code);
            Assert.Matches(@"^error: .*: the weights need \d+ MiB \(0\.9M parameters held as stored\), more than the \d+ MiB of memory available: hold them in bfloat16 \(--dtype bf16, \d+ MiB; rounds float32 weights\) or run it on a machine with more memory\n$", error);
            var (ok, output, _) = CliHarness.Run("attribute", "--prompt", "The Tower", "--methods", "gradient", "--dtype", "bf16");
            Assert.Equal(0, ok);
            Assert.Contains("bfloat16", output);
        }
        finally { Environment.SetEnvironmentVariable(limit, null); }
    }

    [Fact]
    public void AnUnknownDTypeIsRefusedInOneLine()
    {
        var (code, _, error) = CliHarness.Run("attribute", "--prompt", "The Tower", "--dtype", "fp8");
        Assert.Equal(2, code);
        Assert.Equal("error: --dtype: 'fp8' is not one of auto, bf16 (bfloat16), f32 (float32)\n", error);
    }

    [Theory]
    [InlineData("8G", 8L << 30)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1.5K", 1536)]
    [InlineData("1000", 1000)]
    public void TheLimitIsASize(string text, long bytes) => Assert.Equal(bytes, AvailableMemory.Bytes(_ => text));

    [Theory]
    [InlineData("lots")]
    [InlineData("-1G")]
    [InlineData("0")]
    public void ALimitThatIsNoSizeIsRefusedNamingTheVariable(string text) =>
        Assert.StartsWith($"RELP_SAE_MEMORY_LIMIT=\"{text}\" is not a size", Assert.Throws<RelpSaeException>(() => AvailableMemory.Bytes(_ => text)).Message);
}
