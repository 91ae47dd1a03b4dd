// Package synth makes deterministic synthetic astronomical frames for demos, tests and
// benchmarks: a star field on a sky with a gradient, photon and read noise, and the artefacts a
// stacker must reject (cosmic rays, satellite trails, hot pixels). `zmosaic synth DIR` and
// `make demo` use it, and accuracy tests compare stacks against its noise-free truth.
//
// It owns the scene model and the noise; FITS encoding (float32 frames and truth, uint16 CFA
// frames as BITPIX 16 with BZERO 32768) belongs to astro/fits.
//
// # Determinism
//
// Everything derives from Options.Seed through math/rand/v2 PCG streams, never the global
// source. Stars, their colours and the hot-pixel map come from the seed alone, so they are the
// same in every frame and in the truth. Frame i depends only on (Seed, i): GenerateFrame(o, 7)
// equals frame 7 of Write, bit for bit. Each row of a frame draws its noise from its own PCG
// stream keyed by (Seed, frame, row), so rows can be generated in parallel without the output
// depending on GOMAXPROCS or scheduling. Artefacts draw from a separate per-frame stream and are
// added on top of the noise, so a frame with Artefacts=false is exactly its artefact frame minus
// the artefacts (the "clean twin").
//
// # Units and model
//
// Pixels are float32 ADU. The truth is sky + stars, without noise or artefacts: what a perfect
// stack of the frames estimates. A frame is truth·gain electrons, Poisson-sampled (a Gaussian
// approximation above 100 e-, exact Poisson sampling below), plus Gaussian read noise, divided by
// the gain. Stars are Moffat profiles (β = 3) sampled at pixel centres; the catalog flux is the
// integral of the profile, so an aperture sum recovers it to within about a percent.
//
// With a Bayer pattern the truth is an RGB CHW cube (stars have colours) and each frame pixel
// samples the channel its CFA site sees; such frames are rounded and clamped to 0..65535, exactly
// what the uint16 file holds.
//
// # Seestar-like sets and bad inputs
//
// SeestarOptions (`zmosaic synth --seestar`) is the input of a hierarchical run: 1080×1920
// GRBG uint16 frames at 2.39"/px with RA/DEC and OBJCTRA/OBJCTDEC pointing hints, EXPTIME and
// DATE-OBS advancing 10 s per frame, optionally a mosaic and alt-az field rotation
// (FieldRotationDeg turns each panel's frames about their centre), and DIR/frames.csv with
// every frame's true centre, rotation and injections. Corrupt and NoWCS pick frames from the
// seed (Injected) to write truncated or without WCS keys; they change no pixel.
package synth
