using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What every block keeps for its backward pass, whatever the family: the fused Q | K | V rows attention reads
/// [rows × 3·heads·d_head] (K and V repeated per query head) and the pattern [batch·heads × tokens × keys]
/// (each row over a reused prefix's keys too). A family's activations add their own buffers.
/// </summary>
public abstract class BlockActivations : PooledBuffers
{
    internal readonly float[] Qkv, Pattern;

    protected BlockActivations(ModelFacts facts, int batch, int tokens, int prefixRows, FloatPool pool) : base(pool)
    {
        Qkv = Rent((long)batch * tokens * 3 * facts.NHeads * facts.DHead);
        Pattern = Rent((long)batch * facts.NHeads * tokens * (prefixRows + tokens));
    }
}
