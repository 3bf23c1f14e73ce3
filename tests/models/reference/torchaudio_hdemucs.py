#!/usr/bin/python3
"""torchaudio's HDemucs as the reference for ferry's native v3 network.

Run with Debian's interpreter (/usr/bin/python3) and its python3-torch and
python3-torchaudio packages (scripts/setup installs them). Subcommands:

  parity OUT_DIR
      A small HDemucs with seeded random weights. Writes model.pt (the state
      dict, torch.save), mix.f32, forward.f32 (one forward pass over the mix),
      separated.f32 (the whole pipeline as demucs' apply_model runs it, no
      shifts) and parity.json (shapes and settings).

  weights OUT_FILE [--seed N]
      hdemucs_high(sources=4) with seeded random weights, saved with torch.save.

  separate WEIGHTS MIX_F32 OUT_F32 --channels C --segment-seconds S
           [--overlap O] [--threads N]
      Separates a (C, T) float32 mix with those weights, in the same pipeline,
      and prints {"seconds": ..., "cpu_seconds": ...} on stdout (wall and
      process CPU time of the separation alone, without loading).

Raw .f32 files are little-endian float32 in C order.
"""

import argparse
import json
import sys
import time

try:
    import numpy
    import torch
    import torchaudio
except ImportError as error:  # a clear message instead of a traceback
    sys.stderr.write(
        f"cannot import torch/torchaudio ({error}); install Debian's python3-torch and "
        "python3-torchaudio (scripts/setup does) and run this with /usr/bin/python3\n")
    sys.exit(3)

SOURCES = ["drums", "bass", "other", "vocals"]
SAMPLE_RATE = 44100


def randomise(model, seed):
    """Seeded random weights that exercise every branch.

    The default initialisation scales the residual branches by 1e-4 and sets
    the norms to identity, which would hide mistakes there.
    """
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith(".scale"):  # LayerScale of the DConv branches
                parameter.copy_(0.1 + 0.4 * torch.rand(parameter.shape, generator=generator))
            elif name.endswith("norm1.weight") or name.endswith("norm2.weight"):
                parameter.add_(0.2 * torch.randn(parameter.shape, generator=generator))
            elif name.endswith("norm1.bias") or name.endswith("norm2.bias"):
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))


def small_model(seed):
    torch.manual_seed(seed)
    # hdemucs_low's shape (nfft 1024, depth 5) with few channels: every layer
    # kind appears (LSTM and local attention from layer 4, the merged time
    # layer, the frequency embedding) and it runs in well under a second.
    model = torchaudio.models.HDemucs(sources=SOURCES, channels=8, nfft=1024, depth=5)
    randomise(model, seed)
    return model.eval()


def high_model(seed):
    torch.manual_seed(seed)
    return torchaudio.models.hdemucs_high(sources=SOURCES).eval()


def transition_weights(segment_length):
    half = segment_length // 2
    weight = torch.cat([torch.arange(1, half + 1), torch.arange(segment_length - half, 0, -1)]).float()
    return weight / weight.max()


def apply_model(model, mix, segment_length, overlap):
    """demucs.apply.apply_model for a v3 model with shifts=0 and split=True,
    around the normalisation of demucs.separate (mix: (C, T))."""
    reference = mix.mean(0)
    mean, std = reference.mean(), reference.std()
    wav = (mix - mean) / std
    length = wav.shape[-1]
    out = torch.zeros(len(SOURCES), wav.shape[0], length)
    weight_sum = torch.zeros(length)
    stride = int((1 - overlap) * segment_length)
    weight = transition_weights(segment_length)
    for offset in range(0, length, stride):
        chunk = wav[:, offset:offset + segment_length]  # v3: no padding to a fixed length
        chunk_out = model(chunk[None])[0]
        n = chunk_out.shape[-1]
        out[..., offset:offset + n] += weight[:n] * chunk_out
        weight_sum[offset:offset + n] += weight[:n]
    out /= weight_sum
    return out * std + mean


def write_f32(path, tensor):
    tensor.detach().contiguous().float().numpy().tofile(path)


def read_f32(path, channels):
    data = numpy.fromfile(path, dtype="<f4")
    if data.size == 0 or data.size % channels:
        raise SystemExit(f"{path}: {data.size} float32 values do not make {channels} channels")
    return torch.from_numpy(data.reshape(channels, -1).copy())


def parity(args):
    model = small_model(args.seed)
    torch.save(model.state_dict(), f"{args.out_dir}/model.pt")
    generator = torch.Generator().manual_seed(args.seed + 2)
    # Three seconds of noise with a louder burst, so that the chunks differ.
    length = 3 * SAMPLE_RATE + 321
    mix = 0.1 * torch.randn(2, length, generator=generator)
    mix[:, SAMPLE_RATE:SAMPLE_RATE + 4000] *= 5
    segment_seconds = 1
    forward_length = SAMPLE_RATE + 1234
    with torch.no_grad():
        forward = model(mix[None, :, :forward_length])[0]
        separated = apply_model(model, mix, segment_seconds * SAMPLE_RATE, args.overlap)
    write_f32(f"{args.out_dir}/mix.f32", mix)
    write_f32(f"{args.out_dir}/forward.f32", forward)
    write_f32(f"{args.out_dir}/separated.f32", separated)
    meta = {
        "sources": SOURCES,
        "mix_shape": list(mix.shape),
        "forward_length": forward_length,
        "forward_shape": list(forward.shape),
        "separated_shape": list(separated.shape),
        "segment_seconds": segment_seconds,
        "overlap": args.overlap,
        "torch": torch.__version__,
        "torchaudio": torchaudio.__version__,
    }
    with open(f"{args.out_dir}/parity.json", "w") as out:
        json.dump(meta, out)


def weights(args):
    torch.save(high_model(args.seed).state_dict(), args.out_file)


def separate(args):
    torch.set_num_threads(args.threads)
    model = torchaudio.models.hdemucs_high(sources=SOURCES)
    model.load_state_dict(torch.load(args.weights))
    model.eval()
    mix = read_f32(args.mix, args.channels)
    start, start_cpu = time.perf_counter(), time.process_time()
    with torch.no_grad():
        out = apply_model(model, mix, int(args.segment_seconds * SAMPLE_RATE), args.overlap)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    write_f32(args.out, out)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "threads": torch.get_num_threads()}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("parity")
    p.add_argument("out_dir")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--overlap", type=float, default=0.25)
    p.set_defaults(run=parity)
    w = commands.add_parser("weights")
    w.add_argument("out_file")
    w.add_argument("--seed", type=int, default=7)
    w.set_defaults(run=weights)
    s = commands.add_parser("separate")
    s.add_argument("weights")
    s.add_argument("mix")
    s.add_argument("out")
    s.add_argument("--channels", type=int, default=2)
    s.add_argument("--segment-seconds", type=float, required=True)
    s.add_argument("--overlap", type=float, default=0.25)
    s.add_argument("--threads", type=int, default=1)
    s.set_defaults(run=separate)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
