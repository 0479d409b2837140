using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class GemmProperties
{
    [Property(MaxTest = 60)]
    public void RandomShapesMatchFloat64(PositiveInt m, PositiveInt n, PositiveInt k, bool transA, bool transB,
        bool accumulate, byte pad)
    {
        var g = new GemmCase(m.Get % 70 + 1, n.Get % 120 + 1, k.Get % 90 + 1, transA, transB, pad % 5, seed: pad);
        g.AssertAll(g.Run(accumulate), accumulate);
    }
}
