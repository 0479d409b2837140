namespace RelpSae.Formats;

/// <summary>A named tensor as read from a checkpoint, widened to float32, row-major and contiguous.</summary>
public sealed record FloatTensor(string Name, int[] Shape, float[] Data)
{
    public long Length => Data.LongLength;
}
