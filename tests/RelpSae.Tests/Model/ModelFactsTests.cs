using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>The family-neutral facts the commands now parse hooks and check widths with, held to GPT-2's own.</summary>
public class ModelFactsTests
{
    [Fact]
    public void Gpt2FactsOfferEveryHookGpt2HasInTheSameOrderWithTheSameWidths()
    {
        var model = TinyModels.Create(seed: 1);
        var facts = model.Facts;
        Assert.Equal(HookPoint.All(model.Config), facts.HookPoints());
        foreach (var hook in HookPoint.All(model.Config))
        {
            Assert.Equal(hook, facts.ParseHook(hook.Name));
            Assert.Equal(hook.Width(model.Config, 7), facts.Width(hook, 7));
        }
        Assert.Equal($"the SAE's d_in is 3 but the model's width (n_embd) is {model.Config.DModel}", facts.WidthMismatch(3));
    }
}
