using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Tests.Cli;

namespace RelpSae.Tests.Model;

/// <summary>The memory a model's weights will hold, estimated from headers before loading, against what loading and one backward pass allocate.</summary>
[Collection(nameof(ConsoleCollection))]
public class MemoryEstimateTests
{
    /// <summary>
    /// A random Llama of 5.2M parameters (21 MB as float32): the managed heap's growth across loading it and
    /// running a forward and a backward pass (both reading the one packed copy of each map), less the pass's
    /// pooled activations, is the estimate to within 3 % (the loader's small buffers).
    /// </summary>
    [Fact]
    public void TheEstimateIsWhatLoadingAndABackwardHold()
    {
        var dir = RandomLlama(d: 256, layers: 4, mlp: 1024, vocab: 4096);
        var estimate = MemoryEstimate.Of(dir);
        Assert.Equal(4096L * 256 + 4 * (4L * 256 * 256 + 3L * 256 * 1024 + 2 * 256) + 256, estimate.Parameters);
        static void Pass(ITransformer model)
        {
            using var run = model.Forward([1, 2, 3, 4], 1, new RunOptions { KeepForBackward = true, Logits = LogitRows.Last });
            run.Backward(new Metric(MetricKind.Logit, 5), new HookPoint(HookKind.ResidPre, 0), PropagationRules.Gradient);
        }
        Pass(LanguageModels.Load(dir));   // once, so the GEMM's per-thread buffers and the JIT's code exist before measuring
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var model = LanguageModels.Load(dir);
        Pass(model);
        long held = GC.GetTotalMemory(forceFullCollection: true) - before - 4 * Pooled(model);
        GC.KeepAlive(model);
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
