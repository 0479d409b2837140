using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

public class TopKSelectionTests
{
    [Theory]
    [InlineData(3072, 32, 0)]     // the bench's shape: the block floor does most of the work
    [InlineData(512, 32, 1)]      // the default SAE's shape: blocks of 16
    [InlineData(100, 3, 2)]       // a tail chunk
    [InlineData(300, 32, 3)]      // blocks of 8: the floor is weak
    [InlineData(64, 40, 4)]       // more wanted than blocks fit: no floor
    public void SelectsTheLargestPositiveEntriesWithTiesToTheLowerIndex(int length, int k, int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 40; trial++)
        {
            // Values on a coarse grid (many ties), a third negative; some rows with fewer than k positives, a NaN, or one value.
            var row = Enumerable.Range(0, length).Select(_ => (float)Math.Round(rng.NextDouble() * 30 - 10)).ToArray();
            if (trial % 5 == 1) for (int i = 0; i < length; i++) row[i] = -Math.Abs(row[i]) + (i % 13 == 0 ? 1 : 0);
            if (trial % 7 == 2) row[rng.Next(length)] = float.NaN;
            if (trial % 11 == 3) Array.Fill(row, 2f); // all tied: more candidates than the quickselect keeps
            var expected = Enumerable.Range(0, length).Where(i => row[i] > 0)
                .OrderByDescending(i => row[i]).ThenBy(i => i).Take(k).Order().ToArray();
            var chosen = new int[k];
            int count = TopKSelection.Select(row, k, default, chosen);
            Assert.Equal(expected, chosen[..count].Order().ToArray());
        }
    }
}
