using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RelpSae.Numerics;

/// <summary>
/// Each thread's packing buffers, grown on first need and then reused, so a steady stream of
/// products allocates nothing. They live on the pinned object heap (stable addresses, freed with the
/// thread) and are handed out 64-byte aligned so packed panels start on cache lines.
/// </summary>
internal sealed unsafe class PackBuffers
{
    [ThreadStatic] private static PackBuffers? current;

    private float[] a = [], b = [], scratch = [];

    public static PackBuffers ForThisThread => current ??= new PackBuffers();

    public float* A(int floats) => Aligned(ref a, floats);

    public float* B(int floats) => Aligned(ref b, floats);

    /// <summary>16-bit panels widened before they are transposed (<see cref="PanelTranspose"/>) or broadcast (<see cref="PanelsBroadcast"/>).</summary>
    public float* Scratch(int floats) => Aligned(ref scratch, floats);

    private static float* Aligned(ref float[] buffer, int floats)
    {
        const int slack = 64 / sizeof(float);
        if (buffer.Length < floats + slack)
            buffer = GC.AllocateUninitializedArray<float>(floats + slack, pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)((start + 63) & ~(nint)63);
    }
}
