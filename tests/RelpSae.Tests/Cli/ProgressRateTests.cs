using RelpSae.Cli;

namespace RelpSae.Tests.Cli;

/// <summary>The progress bar's rate keeps the digits a slow job needs instead of reading "0 prompts/s".</summary>
public class ProgressRateTests
{
    [Theory]
    [InlineData(1976.4, "1,976 rows/s")]
    [InlineData(12.6, "13 rows/s")]
    [InlineData(3.14, "3.1 rows/s")]
    [InlineData(0.123, "0.12 rows/s")]
    public void ARateHasTheDigitsItNeeds(double rate, string expected) => Assert.Equal(expected, ProgressDisplay.FormatRate(rate, "rows"));
}
