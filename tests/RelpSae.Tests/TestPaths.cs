namespace RelpSae.Tests;

/// <summary>Where the tests' own copies of fixtures live (copied to the output folder; never ../shared).</summary>
internal static class TestPaths
{
    public static string Data(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "TestData", .. parts]);
}
