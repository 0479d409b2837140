using System.Text.Json;
using RelpSae.Formats;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Tests.Model;

/// <summary>
/// Weights held in 16 bits against the same values held as float32: widening bfloat16 or float16 is exact and the
/// products run the same kernel in the same order, so logits and every backward must agree to the last bit, on
/// every family. And <c>--dtype bf16</c> on a float32 checkpoint is that checkpoint rounded to bfloat16.
/// </summary>
public class SixteenBitWeightsTests
{
    private static readonly int[] Tokens = [1, 5, 9, 33, 2, 6, 1, 17, 4, 8, 8, 21];

    public static TheoryData<string, DType> Cases()
    {
        var data = new TheoryData<string, DType>();
        foreach (var f in Families.All) data.Add(f.Folder, DType.BF16);
        data.Add("tiny-neox", DType.F16);   // Pythia ships float16
        data.Add("tiny-llama-mqa", DType.F16);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void SixteenBitWeightsGiveTheirFloat32WideningsBits(string folder, DType narrow)
    {
        var source = TestPaths.Data(folder);
        var rounded = Rounded(source, narrow);
        string sixteen = Checkpoint(source, rounded, narrow), wide = Checkpoint(source, rounded, DType.F32);
        var a = LanguageModels.Load(sixteen);
        var b = LanguageModels.Load(wide);
        AssertSameBits(a, b, folder);
        Assert.Equal(narrow == DType.BF16 ? PanelElement.BFloat16 : PanelElement.Float16, Unembed(a).Element);
        Assert.Equal(PanelElement.Float32, Unembed(b).Element);
    }

    [Theory, MemberData(nameof(AllFamilies))]
    public void RoundingAFloat32CheckpointAtLoadIsItsBFloat16File(string folder)
    {
        var source = TestPaths.Data(folder);
        // Only the weight matrices are rounded: norms and biases stay float32 (they are a sliver of the memory).
        var matricesRounded = Checkpoint(source, Rounded(source, DType.BF16, matricesOnly: true), DType.F32);
        var original = Checkpoint(source, Rounded(source, DType.F32), DType.F32);
        var a = LanguageModels.Load(original, holding: PanelElement.BFloat16);
        AssertSameBits(a, LanguageModels.Load(matricesRounded), folder);
        Assert.Equal(PanelElement.BFloat16, Unembed(a).Element);
    }

    public static TheoryData<string> AllFamilies => Families.Folders();

    private static Linear Unembed(ITransformer model) =>
        (Linear)model.GetType().GetProperty("Unembed", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(model)!;

    /// <summary>Logits of every row, and the exact gradient and RelP's relevance at block 0's resid_pre.</summary>
    private static void AssertSameBits(ITransformer a, ITransformer b, string folder)
    {
        var hook = new HookPoint(HookKind.ResidPre, 0);
        var metric = new Metric(MetricKind.LogitDiff, 7, 3);
        foreach (var rules in new[] { PropagationRules.Gradient, PropagationRules.RelP, PropagationRules.RelPAh })
        {
            using var ra = a.Forward(Tokens, 2, new RunOptions { KeepForBackward = true, Logits = LogitRows.All });
            using var rb = b.Forward(Tokens, 2, new RunOptions { KeepForBackward = true, Logits = LogitRows.All });
            Assert.True(ra.Logits.AsSpan(0, Tokens.Length * a.Facts.VocabSize).SequenceEqual(rb.Logits.AsSpan(0, Tokens.Length * b.Facts.VocabSize)), $"{folder}: logits differ");
            Assert.Equal(rb.Backward([metric], hook, rules), ra.Backward([metric], hook, rules));
        }
    }

    /// <summary>Every floating-point tensor of the folder's checkpoint, rounded to what <paramref name="narrow"/> holds.</summary>
    private static Dictionary<string, FloatTensor> Rounded(string dir, DType narrow, bool matricesOnly = false)
    {
        using var tensors = ShardedCheckpoint.Read(dir);
        var result = new Dictionary<string, FloatTensor>();
        foreach (var h in tensors.Headers.Where(h => h.DType.IsFloat()).ToList())   // buffers such as GPT-2's causal mask left out
        {
            var data = tensors.Take(h.Name, "test", h.Shape);
            for (int i = 0; i < data.Length && (!matricesOnly || h.Shape.Length == 2); i++)
                data[i] = narrow switch
                {
                    DType.BF16 => BitConverter.Int32BitsToSingle(PanelElements.ToBFloat16(data[i]) << 16),
                    DType.F16 => (float)(Half)data[i],
                    _ => data[i],
                };
            result[h.Name] = new FloatTensor(h.Name, h.Shape, data);
        }
        return result;
    }

    /// <summary>A copy of the folder's config with <paramref name="tensors"/> stored as <paramref name="dtype"/> in model.safetensors.</summary>
    private static string Checkpoint(string source, Dictionary<string, FloatTensor> tensors, DType dtype)
    {
        var dir = Directory.CreateTempSubdirectory("relp-16bit-").FullName;
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(dir, "config.json"));
        var sorted = tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        long offset = 0;
        int size = dtype.Size();
        foreach (var t in sorted)
        {
            header[t.Name] = new { dtype = dtype.ToString(), shape = t.Shape, data_offsets = new[] { offset, offset + t.Data.LongLength * size } };
            offset += t.Data.LongLength * size;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        using var stream = File.Create(Path.Combine(dir, "model.safetensors"));
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        foreach (var t in sorted)
            foreach (var v in t.Data)
                stream.Write(dtype switch
                {
                    DType.BF16 => BitConverter.GetBytes(PanelElements.ToBFloat16(v)),
                    DType.F16 => BitConverter.GetBytes((Half)v),
                    _ => BitConverter.GetBytes(v),
                });
        return dir;
    }
}
