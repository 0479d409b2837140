using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>The one hook catalogue every family's facts give, held to GPT-2's TransformerLens names and widths.</summary>
public class ModelFactsTests
{
    [Fact]
    public void Gpt2FactsOfferTransformerLensHooksInOrderWithTheirWidths()
    {
        var model = TinyModels.Create(seed: 1);
        var facts = model.Facts;
        var c = model.Config;
        string[] block = ["hook_resid_pre", "attn.hook_pattern", "attn.hook_z", "hook_attn_out", "hook_resid_mid", "hook_mlp_in", "ln2.hook_normalized", "mlp.hook_in", "mlp.hook_post", "mlp.hook_out", "hook_mlp_out", "hook_resid_post"];
        string[] expected = ["hook_embed", "hook_pos_embed", .. Enumerable.Range(0, c.NLayers).SelectMany(l => block.Select(h => $"blocks.{l}.{h}")), "ln_final.hook_normalized"];
        Assert.Equal(expected, facts.HookPoints().Select(h => h.Name));
        foreach (var hook in facts.HookPoints())
        {
            Assert.Equal(hook, facts.ParseHook(hook.Name));
            int width = hook.Kind switch { HookKind.MlpPost => c.DMlp, HookKind.AttnPattern => c.NHeads * 7, _ => c.DModel };
            Assert.Equal(width, facts.Width(hook, 7));
        }
        Assert.Equal($"the SAE's d_in is 3 but the model's width (n_embd) is {c.DModel}", facts.WidthMismatch(3));
    }
}
