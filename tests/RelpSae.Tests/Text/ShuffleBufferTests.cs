using RelpSae.Text;

namespace RelpSae.Tests.Text;

public class ShuffleBufferTests
{
    [Theory]
    [InlineData(1000, 64)]
    [InlineData(50, 64)]
    [InlineData(0, 8)]
    public void Shuffle_is_a_permutation_fixed_by_the_seed(int count, int size)
    {
        var items = Enumerable.Range(0, count).ToArray();
        var once = new ShuffleBuffer<int>(size, 7).Shuffle(items).ToArray();
        Assert.Equal(items, once.Order());
        Assert.Equal(once, new ShuffleBuffer<int>(size, 7).Shuffle(items).ToArray());
        if (count < 10) return;
        Assert.NotEqual(items, once);
        Assert.NotEqual(once, new ShuffleBuffer<int>(size, 8).Shuffle(items).ToArray());
    }

    [Fact]
    public void Items_move_at_most_as_far_forward_as_the_buffer_allows()
    {
        // An item cannot come out before the buffer has seen it: output position ≥ input position − (size − 1).
        const int size = 16;
        var output = new ShuffleBuffer<int>(size, 3).Shuffle(Enumerable.Range(0, 500)).ToArray();
        Assert.All(output.Index(), p => Assert.True(p.Index >= p.Item - (size - 1)));
    }

    [Fact]
    public void A_buffer_of_one_keeps_the_order()
    {
        var items = Enumerable.Range(0, 20).ToArray();
        Assert.Equal(items, new ShuffleBuffer<int>(1, 5).Shuffle(items));
        Assert.Throws<RelpSaeException>(() => new ShuffleBuffer<float[]>(0, 5));
    }
}
