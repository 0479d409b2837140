namespace RelpSae.Model;

/// <summary>
/// The layer loop of a backward pass through sequential blocks (the Llama family, Gemma-2): from the top,
/// each block's MLP and then its attention add their paths into dx, down to the target depth; with a
/// record, every component's coefficient is copied there as the loop passes it.
/// </summary>
internal static class SequentialBackward
{
    /// <param name="dz">The buffer <paramref name="attention"/> leaves the gradient at z in.</param>
    public static void Run(int layers, int target, float[] dx, Action<int> mlp, Action<int> attention, float[] dz, ComponentGradients? record)
    {
        for (int l = layers - 1; 2 * l + 2 > target; l--)
        {
            if (record is not null) ComponentGradients.Record(record.MlpOut, l, dx, dx.Length);
            mlp(l);
            if (record is not null) ComponentGradients.Record(record.AttnOut, l, dx, dx.Length);
            if (2 * l + 1 == target) break;
            attention(l);
            if (record is not null)
            {
                ComponentGradients.Record(record.Z, l, dz, dz.Length);
                ComponentGradients.Record(record.ResidPre, l, dx, dx.Length);
            }
        }
    }
}
