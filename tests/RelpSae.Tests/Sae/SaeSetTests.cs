using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;
using RelpSae.Tests.Model;

namespace RelpSae.Tests.Sae;

/// <summary>
/// <c>--saes</c> takes any mix of dictionaries: SAEs at residual hooks, attention and MLP outputs and SAELens transcoder
/// folders, from one folder of subfolders or a comma list of such folders, ordered along the forward pass; a dictionary
/// too wide for its hook, two replacing one site and an unknown or unsupported hook are one-line errors naming the file.
/// </summary>
public class SaeSetTests
{
    private static readonly ModelFacts Facts = TinyModels.Create(seed: 4).Facts;

    private static string Sae(string parent, string hook, int width = 0)
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, width > 0 ? width : Facts.DModel, 24) with { HookName = hook }, 3);
        var folder = Path.Combine(parent, hook);
        SaeFiles.Save(folder, sae);
        return folder;
    }

    /// <summary>A random SAELens transcoder folder of width <paramref name="d"/> in place of block <paramref name="layer"/>'s MLP, reading its ln2.hook_normalized.</summary>
    internal static string Transcoder(string parent, int layer, string name, int d = 0)
    {
        d = d > 0 ? d : Facts.DModel;
        var s = TranscoderSpliceTests.RandomTranscoder(d, SaeArchitecture.Standard, $"blocks.{layer}.ln2.hook_normalized", $"blocks.{layer}.hook_mlp_out", skip: false).Dictionary;
        var folder = Directory.CreateDirectory(Path.Combine(parent, name)).FullName;
        SafetensorsWriter.Write(Path.Combine(folder, SaeFiles.WeightsFile),
        [
            new FloatTensor("W_enc", [d, s.DSae], s.WEnc), new FloatTensor("W_dec", [s.DSae, d], s.WDec),
            new FloatTensor("b_enc", [s.DSae], s.BEnc), new FloatTensor("b_dec", [d], s.BDec),
        ]);
        File.WriteAllText(Path.Combine(folder, SaeFiles.ConfigFile), $$"""
            {"architecture": "transcoder", "d_in": {{d}}, "d_out": {{d}}, "d_sae": {{s.DSae}}, "apply_b_dec_to_input": false, "normalize_activations": "none",
             "hook_name": "blocks.{{layer}}.ln2.hook_normalized", "hook_name_out": "blocks.{{layer}}.hook_mlp_out"}
            """);
        return folder;
    }

    private static string Temp() => Directory.CreateTempSubdirectory("relp-saeset-").FullName;

    [Fact]
    public void OneFolderOrACommaListOfFoldersMixesEveryKindInForwardOrder()
    {
        var site = Temp();
        Sae(site, "blocks.1.hook_mlp_out");
        Sae(site, "blocks.0.hook_attn_out");
        Sae(site, "blocks.1.hook_attn_out");
        Transcoder(site, 0, "transcoder-0");
        var resid = Temp();
        Sae(resid, "blocks.0.hook_resid_post");
        Sae(resid, "blocks.1.hook_resid_mid");

        var set = SaeSet.Load($"{resid}, {site}", Facts);
        Assert.Equal(["blocks.0.hook_attn_out", "blocks.0.hook_mlp_out", "blocks.0.hook_resid_post", "blocks.1.hook_attn_out", "blocks.1.hook_resid_mid", "blocks.1.hook_mlp_out"],
            set.Select(s => s.Hook.Name));
        var transcoder = set[1];
        Assert.True(transcoder.IsTranscoder);
        Assert.Equal(new HookPoint(HookKind.Ln2Normalized, 0), transcoder.Input);
        Assert.Equal(Path.Combine(site, "transcoder-0"), transcoder.Folder);
        Assert.All(set.Where(s => s != transcoder), s => Assert.Equal(s.Hook, s.Input));

        Assert.Equal(4, SaeSet.Load(site, Facts).Count);
        Assert.Single(SaeSet.Load(Path.Combine(site, "transcoder-0"), Facts));
    }

    [Fact]
    public void AnMlpOutSaeAndATranscoderOfTheSameMlpAreRefusedNamingBoth()
    {
        var dir = Temp();
        var sae = Sae(dir, "blocks.1.hook_mlp_out");
        var transcoder = Transcoder(dir, 1, "transcoder-1");
        var e = Assert.Throws<RelpSaeException>(() => SaeSet.Load(dir, Facts));
        Assert.Equal($"two dictionaries replace blocks.1.hook_mlp_out: {sae} and {transcoder}; splice at most one per site", e.Message);
    }

    [Fact]
    public void ADictionaryTooWideForItsHookIsRefusedNamingTheFileAndTheHook()
    {
        var wide = Sae(Temp(), "blocks.0.hook_attn_out", width: Facts.DModel + 1);
        var e = Assert.Throws<RelpSaeException>(() => SaeSet.Load(wide, Facts));
        Assert.Equal($"{wide}: the SAE is {Facts.DModel + 1} wide but blocks.0.hook_attn_out holds {Facts.DModel} values a position (n_embd)", e.Message);
    }

    [Theory]
    [InlineData("blocks.7.hook_attn_out", "the GPT2LMHeadModel model has no hook point \"blocks.7.hook_attn_out\"")]
    [InlineData("blocks.0.mlp.hook_post", "SAEs are spliced at residual hooks (hook_resid_pre/mid/post), hook_attn_out or hook_mlp_out; blocks.0.mlp.hook_post is not one")]
    public void AnUnknownOrUnsupportedHookIsRefusedNamingTheFile(string hook, string message)
    {
        var folder = Sae(Temp(), hook, width: hook.EndsWith("hook_post") ? TinyModels.Config.DMlp : 0);
        var e = Assert.Throws<RelpSaeException>(() => SaeSet.Load(folder, Facts));
        Assert.StartsWith($"{folder}: {message}", e.Message);
    }
}
