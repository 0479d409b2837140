using System.IO.Compression;
using System.Text;
using RelpSae.Formats;

namespace RelpSae.Tests.Formats;

public class PyTorchBinTests
{
    private static byte[] Short(string s) => [0x8c, (byte)s.Length, .. Encoding.ASCII.GetBytes(s)];   // SHORT_BINUNICODE

    /// <summary>
    /// A protocol-4 pickle as newer PyTorch writes it (FRAME, MEMOIZE, STACK_GLOBAL, an nn.Parameter)
    /// holding a transposed, offset view of a float16 storage [0, 1, 2, 3, 4, 5]: size (2, 2),
    /// stride (1, 3), offset 1, so the tensor is [[1, 4], [2, 5]].
    /// </summary>
    [Fact]
    public void Protocol4ParameterWithStridedHalfViewIsMaterialisedContiguous()
    {
        byte[] pickle =
        [
            0x80, 4, 0x95, .. new byte[8], (byte)'}', 0x94,
            .. Short("w"), 0x94,
            .. Short("torch._utils"), .. Short("_rebuild_parameter"), 0x93,
            .. Short("torch._utils"), .. Short("_rebuild_tensor_v2"), 0x93,
            (byte)'(',
                (byte)'(', .. Short("storage"), .. Short("torch"), .. Short("HalfStorage"), 0x93, .. Short("0"), .. Short("cpu"), (byte)'K', 6, (byte)'t', (byte)'Q',
                (byte)'K', 1,
                (byte)'K', 2, (byte)'K', 2, 0x86,
                (byte)'K', 1, (byte)'K', 3, 0x86,
                0x89,
                .. Short("collections"), .. Short("OrderedDict"), 0x93, (byte)')', (byte)'R',
            (byte)'t', (byte)'R',
            0x88, (byte)'}', 0x87, (byte)'R',
            (byte)'s', (byte)'.',
        ];
        string path = Path.Combine(Directory.CreateTempSubdirectory("relpsae-p4").FullName, "p4.bin");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("any_prefix/data.pkl").Open()) s.Write(pickle);
            using (var s = zip.CreateEntry("any_prefix/data/0").Open())
                foreach (int v in Enumerable.Range(0, 6)) s.Write(BitConverter.GetBytes((Half)v));
        }
        var w = Assert.Single(PyTorchBin.Read(path)).Value;
        Assert.Equal("w", w.Name);
        Assert.Equal([2, 2], w.Shape);
        Assert.Equal([1f, 4f, 2f, 5f], w.Data);
    }
}
