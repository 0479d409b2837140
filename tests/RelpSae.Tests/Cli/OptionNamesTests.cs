using RelpSae.Attribution;
using RelpSae.Cli;

namespace RelpSae.Tests.Cli;

/// <summary>The library refuses a setting in its own words; the CLI says the same with the option the user typed.</summary>
public class OptionNamesTests
{
    [Fact]
    public void IgStepsInTheLibrarysWordsAndAsTheOption()
    {
        var e = Assert.Throws<SettingException>(() => new IntegratedGradients(0));
        Assert.Equal("IG steps must be positive, got 0", e.Message);
        Assert.Equal("--ig-steps must be positive, got 0", OptionNames.Message(e));
    }

    [Fact]
    public void EverySettingInAMessageNamesItsOptionThere()
    {
        var e = Assert.Throws<SettingException>(() => AttributionMethods.Parse("gradient,relp,gradient"));
        Assert.Equal("method \"gradient\" is listed twice in method list", e.Message);
        Assert.Equal("method \"gradient\" is listed twice in --methods", OptionNames.Message(e));
    }

    [Fact]
    public void EverySettingHasAnOptionAndNoLibraryNameIsAFlag()
    {
        foreach (var setting in Enum.GetValues<Setting>())
        {
            Assert.StartsWith("--", OptionNames.Of(setting));
            Assert.DoesNotContain("--", SettingNames.Library(setting));
        }
    }

    [Fact]
    public void OtherErrorsAreShownAsTheyAre() =>
        Assert.Equal("the prompt is empty", OptionNames.Message(new RelpSaeException("the prompt is empty")));
}
