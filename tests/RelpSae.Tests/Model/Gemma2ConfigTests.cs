using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// Gemma-2's config as Hugging Face reads it: null soft-caps are none, absent ones its defaults (50 and 30),
/// the sliding window bounds the context, the norms' stored offsets become 1 + w; and what the family does not
/// run is a one-line error naming the key.
/// </summary>
public class Gemma2ConfigTests
{
    private static string WithConfig(Func<string, string> change)
    {
        var dir = Directory.CreateTempSubdirectory("relp-gemma2-").FullName;
        foreach (var f in Directory.GetFiles(TestPaths.Data("tiny-gemma2"))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, change(File.ReadAllText(config)));
        return dir;
    }

    [Fact]
    public void TheFixtureLoadsWithItsCapsScalarAndWindow()
    {
        var model = (Gemma2)LanguageModels.Load(TestPaths.Data("tiny-gemma2"));
        Assert.Equal((5f, 3f, 24f), (model.Config.AttentionSoftcap, model.Config.LogitSoftcap, model.Config.QueryPreAttnScalar));
        Assert.Equal(64, model.Facts.Context);   // max_position_embeddings: the sliding layers mask keys beyond their window of 48
        Assert.Equal(48, model.Config.SlidingWindow);
        Assert.True(model.Facts.GatedMlp);
        Assert.Equal(12, model.Facts.DHead);      // head_dim, not hidden_size / num_attention_heads
        Assert.Same(model.Weights.Embedding, model.Weights.LmHead);
    }

    [Fact]
    public void NullCapsAreNoneAndAbsentCapsAreHuggingFacesDefaults()
    {
        var none = (Gemma2)LanguageModels.Load(WithConfig(c => c.Replace("\"attn_logit_softcapping\": 5.0", "\"attn_logit_softcapping\": null")
            .Replace("\"final_logit_softcapping\": 3.0", "\"final_logit_softcapping\": null")));
        Assert.Equal((0f, 0f), (none.Config.AttentionSoftcap, none.Config.LogitSoftcap));
        var defaults = (Gemma2)LanguageModels.Load(WithConfig(c => c.Replace("\"attn_logit_softcapping\": 5.0,", "")
            .Replace("\"final_logit_softcapping\": 3.0,", "")));
        Assert.Equal((50f, 30f), (defaults.Config.AttentionSoftcap, defaults.Config.LogitSoftcap));
        // Without caps the logits are the raw ones: the fixture's caps bend them, so they differ.
        int[] tokens = [2, 5, 9, 33, 2, 60];
        using var capped = LanguageModels.Load(TestPaths.Data("tiny-gemma2")).Forward(tokens, 1, new RunOptions { Logits = LogitRows.All });
        using var raw = ((ITransformer)none).Forward(tokens, 1, new RunOptions { Logits = LogitRows.All });
        Assert.True(raw.Logits.Max() > 3f);
        Assert.True(capped.Logits.Max() < 3f);
    }

    [Theory]
    [InlineData("\"hidden_activation\": \"gelu_pytorch_tanh\"", "\"hidden_activation\": \"silu\"", "hidden_activation is 'silu'")]
    [InlineData("\"final_logit_softcapping\": 3.0", "\"final_logit_softcapping\": -3.0", "final_logit_softcapping is -3.0, not a positive number")]
    [InlineData("\"query_pre_attn_scalar\": 24", "\"query_pre_attn_scalar\": 0", "query_pre_attn_scalar is 0, not a positive number")]
    [InlineData("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3", "num_key_value_heads 3 does not divide num_attention_heads 4")]
    public void WhatTheFamilyDoesNotRunIsRefusedNamingTheKey(string from, string to, string message)
    {
        var dir = WithConfig(c => c.Replace(from, to));
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
        Assert.Contains("config.json: " + message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
