package cpu_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zmosaic/zmosaic/cpu"
)

// printStackHashes makes TestStackBandGoldenHashes print its table as Go
// source instead of checking it: run it only after a change that is meant to
// alter StackBand's results, and say why in the commit.
var printStackHashes = flag.Bool("print-stack-hashes", false, "print the StackBand golden hash table")

// goldenFrames are the stack depths of the golden test: small stacks, the
// sizes around the sorting thresholds (32/33, 64/65), a large one, and two
// beyond MaxSortFrames (300, 2000) where winsor and kappa with mean, min and
// max follow the streamed rule.
var goldenFrames = []int{3, 5, 8, 12, 20, 32, 33, 64, 65, 100, 300, 2000}

// goldenBand makes n frames of 4×64 pixels whose pixel kinds cycle through the
// cases the kernels branch on: Gaussian noise with NaNs and outliers,
// uint16-like integers (ties, saturation), constant pixels with a lone
// outlier (MAD = 0), ±0 mixes (tie order of signed zeros), mostly-NaN pixels
// and ±Inf.
func goldenBand(n int, seed uint64) [][]float32 {
	const pixels = 4 * 64
	rng := rand.New(rand.NewPCG(seed, 2))
	src := make([][]float32, n)
	for i := range src {
		src[i] = make([]float32, pixels)
	}
	for j := range pixels {
		kind := j % 7
		c := float32(math.Round(1000 * rng.Float64()))
		cf := float64(c)
		for i := range n {
			var x float32
			u := rng.Float64()
			switch kind {
			case 0, 1: // noise with NaNs and outliers
				switch {
				case u < 0.05:
					x = nan
				case u < 0.09:
					x = float32(1000 + 5000*rng.Float64())
				case u < 0.12:
					x = float32(-500 * rng.Float64())
				default:
					x = float32(100 + 5*rng.NormFloat64())
				}
			case 2: // uint16-like: ties and saturation
				x = float32(math.Round(cf + 3*rng.NormFloat64()))
				if u < 0.04 {
					x = 65535
				}
			case 3: // constant with an occasional outlier
				x = c
				if u < 0.1 {
					x = c + 50
				}
			case 4: // signed zeros among small values
				switch {
				case u < 0.3:
					x = 0
				case u < 0.6:
					x = float32(math.Copysign(0, -1))
				default:
					x = float32(rng.IntN(3) - 1)
				}
			case 5: // mostly no data
				x = nan
				if u < 0.15 {
					x = float32(c + float32(rng.NormFloat64()))
				}
			case 6: // infinities are not data either
				switch {
				case u < 0.1:
					x = float32(math.Inf(1))
				case u < 0.2:
					x = float32(math.Inf(-1))
				default:
					x = float32(c + 2*float32(rng.NormFloat64()))
				}
			}
			src[i][j] = x
		}
	}
	return src
}

// goldenNormWeights gives random normalisations (some offsets −0, so signed
// zeros survive) and weights with about a fifth of them 0.
func goldenNormWeights(n int, seed uint64) ([]cpu.Affine, []float32) {
	rng := rand.New(rand.NewPCG(seed, 3))
	norm := make([]cpu.Affine, n)
	w := make([]float32, n)
	for i := range n {
		norm[i] = cpu.Affine{Gain: float32(0.9 + 0.2*rng.Float64()), Offset: float32(rng.NormFloat64())}
		if i%4 == 0 {
			norm[i] = cpu.Affine{Gain: 1, Offset: float32(math.Copysign(0, -1))}
		}
		w[i] = float32(0.2 + rng.Float64())
		if rng.Float64() < 0.2 {
			w[i] = 0
		}
	}
	return norm, w
}

// stackHash runs StackBand and hashes the float32 bits of dst, kept and the
// stats, for the raw samples and again with normalisation and weights.
func stackHash(t *testing.T, n int, opt cpu.StackOptions) string {
	t.Helper()
	src := goldenBand(n, uint64(n))
	norm, w := goldenNormWeights(n, uint64(n))
	h := sha256.New()
	var buf [8]byte
	put := func(x uint64) {
		binary.LittleEndian.PutUint64(buf[:], x)
		h.Write(buf[:])
	}
	for _, nw := range []bool{false, true} {
		dst := make([]float32, len(src[0]))
		kept := make([]uint32, len(dst))
		var st cpu.StackStats
		if nw {
			st = cpu.StackBand(dst, kept, src, norm, w, 64, opt)
		} else {
			st = cpu.StackBand(dst, kept, src, nil, nil, 64, opt)
		}
		require.NoError(t, st.Err)
		for j := range dst {
			put(uint64(math.Float32bits(dst[j])))
			put(uint64(kept[j]))
		}
		put(uint64(st.RejectedLow))
		put(uint64(st.RejectedHigh))
		put(uint64(st.Pixels))
		put(uint64(st.Samples))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestStackBandGoldenHashes pins StackBand's results bit for bit: the hashes
// were recorded before the kernels were optimised, and any change to sorting,
// skipping or summation order that alters a single output bit, kept count or
// statistic fails here. Workers = 1; TestStackBandDeterministic covers the rest.
func TestStackBandGoldenHashes(t *testing.T) {
	var got []string
	for _, r := range allRejects {
		for _, c := range allCombines {
			for _, n := range goldenFrames {
				key := fmt.Sprintf("%s/%s/%d", r, c, n)
				opt := opts(r, c)
				opt.Workers = 1
				h := stackHash(t, n, opt)
				got = append(got, fmt.Sprintf("\t%q: %q,", key, h))
				if !*printStackHashes {
					assert.Equal(t, stackGoldenHashes[key], h, key)
				}
			}
		}
	}
	if *printStackHashes {
		for _, l := range got {
			fmt.Println(l)
		}
	}
}

// stackGoldenHashes is the SHA-256 per reject/combine/frames of stackHash,
// recorded with the original (insertion sort, one pixel at a time) kernels;
// the 300- and 2000-frame entries were added with the streamed rule
// (stack_stream.go) and checked against its plain reimplementation
// (TestStackBandStreamedMatchesReference).
var stackGoldenHashes = map[string]string{
	"winsor/mean/3":      "3d6109ed1533189f773b05ac27fad630685e70887b15615a67d2a210968aa1ff",
	"winsor/mean/5":      "e21caf6f0596eccbc36f5978e9260a7e6bb4cb714e081d9bc5b1a72bb8326a22",
	"winsor/mean/8":      "805ad33c653748ce0775b666939bac51f96f889d62c3869b9799771497df7ff6",
	"winsor/mean/12":     "2ed88cc9e666c730ccb321e1ff22d302520125083d009c8691a9b818bf3c3371",
	"winsor/mean/20":     "7e8319e42403698a47085de22b30e71fc1c88c1522787080cec1682c777604a6",
	"winsor/mean/32":     "ce41fdc5e0050fe8b8be4074088e5e46464ab2a7efdadbee748cf2592e9adcab",
	"winsor/mean/33":     "df4177ba22223536d296247b987b91c73dd3cdd2d7368625a2ecced8cd9af185",
	"winsor/mean/64":     "53452c81d1e056447207b189f8a92f85acc14f268c23094fdd8d04dd138eb87f",
	"winsor/mean/65":     "28bfb4577348641616e0b2b20f4c7fe475f54136c6d3e86bc9c10cb0908d6e13",
	"winsor/mean/100":    "a9aed0118080180f7ef96a7326f0bf1eae7e1b692b00be097d37838682cf489b",
	"winsor/mean/300":    "4eade3116a38605e5eb76e5091858777899fd0f1e9fd2ee5f2f8d285795139c0",
	"winsor/mean/2000":   "46ff084115e61128f3484b25ebe12c4b2090b078e691abd4fc6ccfa9ac45b83e",
	"winsor/median/3":    "2a7eb506d58ef541a40398adc4b7d56bd0fd66ebc08853d377d1768e25aa4079",
	"winsor/median/5":    "884a484d87a3fae93d8f9c84afeeabec526f8879b64224d143250c0118a8cc34",
	"winsor/median/8":    "266399858df0276914854d690012f3b93ded5ca94c6a80bb599bf1a4bf2fd733",
	"winsor/median/12":   "f8b35191014891de897b37a6a430cd2c94949d57451b97514252d38ee5d957a0",
	"winsor/median/20":   "46fb1ccd41aceca611500febe719cc586f9525fece9e6c7235a450b9d84718bd",
	"winsor/median/32":   "50ed1ade6bac2d99e0b69d2e21d7197c90168afc2da4882f77bbcae6eb89711b",
	"winsor/median/33":   "071124cded17f50c3c373f69d681e18ffc5c5efc081b36fc503a0733cb94a3f9",
	"winsor/median/64":   "f2b321fbe8857609cdef578253c8db3fda3e979688ae9a959fad467c4c7e2107",
	"winsor/median/65":   "4fdccb001cfdfb4a503dfe14a1dc59a8208575fb3629379b22fd56c0500b6e92",
	"winsor/median/100":  "3175549fa28be632507bd1ae11d61e6bd39294f1b4bfd4ea1a249f045f80ccdc",
	"winsor/median/300":  "061e4fd93078ab2ad1e58e9e0bea3847080ff41f3a16edf4d0f02da10b687065",
	"winsor/median/2000": "867d4e80b31dae08e65371a9070512206ab423b37c9a947a5639f8c8f5213c4e",
	"winsor/min/3":       "878a135d4bc36cb02377d6b155f47c32e2fe582f77d9cb8cb2361db130b68641",
	"winsor/min/5":       "0f18bc3c69640e48170d18590760e9d49001985b1fd19a003d02cf265c712d2e",
	"winsor/min/8":       "24c471dc4321737f394e4a340148ae80d84b2a188440d120711928a773f3cecd",
	"winsor/min/12":      "48d13335202cfa10eff9deb222df5d961500e39d4642b2ed8f71132bae79bb3b",
	"winsor/min/20":      "3d46baa15aac638f616e40f11305bed975f6038d815bd70f7b06a2d5eb2768d6",
	"winsor/min/32":      "d47b4fa17ae46b3711dc98547697d4b90f5ecbad544b6ce155ddd60e4077b0d4",
	"winsor/min/33":      "7d4ee99e5bd15154ae030f0e3e4167d69155dcb62731f601d212b7b7265113f4",
	"winsor/min/64":      "fd7c38c5280cb4c75c5ac732d06c858eebced89a9f82c4f6999a2f40a9641bf0",
	"winsor/min/65":      "2152efd481982dcf14e1fe71e287d249153d732ab205127899aecfed75f558a1",
	"winsor/min/100":     "9d20b7b6c1fff77d51930e80c5b8c4663be144fa2819fe37b466393a678dbc3f",
	"winsor/min/300":     "695e21ec7d6cba72699bac5e44dc9a1807099677b9dc1094958014af7e734ab6",
	"winsor/min/2000":    "ceee69dde3bb5852c2bfa72abd9f98b3b275ac5326852b36bb8e299e9fec668e",
	"winsor/max/3":       "11305e2f151755c680aaeb0826d7559ee215ef03df14fdcd70f0e7fca8eb63e5",
	"winsor/max/5":       "6d3d01a0e91ad8532edcadd6347a65e42ee9fcf2a6786b574d65a28a36c489fe",
	"winsor/max/8":       "7a69c8f3e66d8ef1e3b03337be46747db1490cc2fbe6b500eae752e110515736",
	"winsor/max/12":      "c25ea84ae16cc7d392f4341c0e00df37da2cc137d02473ba4e5b6e23ff8a5f19",
	"winsor/max/20":      "81e5e308140224d0e10aac2c82a44ed5a10c53b2214b5cf2142ffe187bb140d5",
	"winsor/max/32":      "c949c829cf96dd3aa7678c4941b4e32115f8c36d524195efe177205b9a08851f",
	"winsor/max/33":      "4924c1387ef09bf3645046eae5cb0308e4f6c3d4efcd0ed64295d493f65e9f90",
	"winsor/max/64":      "474374f73339e3252fa84e95241aaffcf63445f3b16081ad88b46a04c9175638",
	"winsor/max/65":      "b6f62f29b7b1df2e386681627803a18c913d0dd22ddd14c893e8bf16931605b1",
	"winsor/max/100":     "da26918d21cc57e7a3e15dbdb4be5d58d543b2781141b8bd5c9d159a9a97e05f",
	"winsor/max/300":     "bdb57404346610955394d4aae1fef3c2c099ea5894006e32f267ffbf38569bf4",
	"winsor/max/2000":    "6f0443438f0da2173aa7cbc08d2625dae9c76a9e1c75540d1104f34668a49738",
	"kappa/mean/3":       "3d6109ed1533189f773b05ac27fad630685e70887b15615a67d2a210968aa1ff",
	"kappa/mean/5":       "5be111b82f0555b5844d1e625fc0776aac8c45ffb6c0a66e585deb088b8810b6",
	"kappa/mean/8":       "33e0583920670656d2c783bf43c5dcce0860194ee878a16c60b4a0aac2107320",
	"kappa/mean/12":      "b0e53fdc019c7251cf4966c77e2c11165575b1acf767f5c981fcbb4d5399a388",
	"kappa/mean/20":      "c87d24df81ada83d15b26a0d859a5ce4a358b138af4adca2b6be0a687b988872",
	"kappa/mean/32":      "ed6c251910f58142aee94c073d89cd647b42d5cda82bce9a08c2f8d5bf57bf1b",
	"kappa/mean/33":      "4a936fc6fac6c5c0712ef5228623c1a46805b32b59b17fe0b874cdb252976c56",
	"kappa/mean/64":      "1cd210c2e28f84388bb87beadfc37d69b0a030475ef2f12d21300554ddfe405f",
	"kappa/mean/65":      "78a9ed732c4c26346180d22fcc75b688c6495d21e9913275d19d36cbdf088fe2",
	"kappa/mean/100":     "8991e10fc49b9d623b17bc8cda54a32ea6afdebd5e312b4715f45eef8099ed78",
	"kappa/mean/300":     "e70a267aace0d5e3111c5f088c769d86cfcf24ae7817a05f560c95b0391f1114",
	"kappa/mean/2000":    "f80f789ab365f0f43fe9f0f6f5adf9faa495f0f6570013564dfb92efc857bb67",
	"kappa/median/3":     "2a7eb506d58ef541a40398adc4b7d56bd0fd66ebc08853d377d1768e25aa4079",
	"kappa/median/5":     "03a2f1a1df96ea2ecb5d4d0a7a8f5a764e0cda934a88bf13b4c499b9a78229c5",
	"kappa/median/8":     "966fb3e87119e2c341dbc9042b4f1ecb0ade2048a82315339fcfc705c3a161bb",
	"kappa/median/12":    "4bc71c75f7a45b7683fdff57e4c0b4e8a04a476cc35db19e069cc1fb38e48a47",
	"kappa/median/20":    "d8197b181a2f48057097e575c5f5933a64e3cb6718d023e99f4d79b3d3d65cdd",
	"kappa/median/32":    "24feadc4dfb0e832f4c784dbe921b4c645eec7271b7350414302508f4284a716",
	"kappa/median/33":    "abd2582e60611e348c4b29a9985173e99ec47c65cabf2b5a5fc5db660e9e99b9",
	"kappa/median/64":    "60f2f535722814e37e400673ddbe3a02b22191dd1e493814775ad2bd2ef67cbc",
	"kappa/median/65":    "2f2035c30e01c57cc3b5048cc18018de9d4c546821ce5b967abf5403f7d97ffd",
	"kappa/median/100":   "3127ab5e65dfd50d05b652f54883324fb24635fef1b9d45cad39a2d85deb999a",
	"kappa/median/300":   "042b1a8c82d1dd4548ca91ec3f4f55cf408e723593914cb24f1df4b8d061358a",
	"kappa/median/2000":  "9e99463385297b4ccac34003d564ca0cd618ac68c9061b5fee4ded503c2ef172",
	"kappa/min/3":        "878a135d4bc36cb02377d6b155f47c32e2fe582f77d9cb8cb2361db130b68641",
	"kappa/min/5":        "e41d6f41b7f03e68d518b156871927e0ea1dbdf3558284f733868fa6d2fb4ba4",
	"kappa/min/8":        "f333184306f5f39b60d14790bcd0792071e88f5b1eb5cbd08fedbfc4d7ebcfd8",
	"kappa/min/12":       "5bbd8e4fa987142964f0e368f2882d143d5a1aa8b8c61bdf7c7f4903360afdca",
	"kappa/min/20":       "31af1784481a326b16d51863d5ed8b806337c3db2d16f2e166504c6747e6dadd",
	"kappa/min/32":       "f8cd8b349b50e24caf844242fa13b9031e9d9e09d0eca76969baf00f1d196595",
	"kappa/min/33":       "171233b58c07f2483403de91aba462cc653d02ae892057c63482985316ac6570",
	"kappa/min/64":       "aab5826336900ed84fa8f24fa5317b8b51c9ac127c4a83a8648e245f6cf16dbc",
	"kappa/min/65":       "b58aa60dfd0fc343ef6db0b2990c9c93e7b87c5adb31bbf515b367d436440bf5",
	"kappa/min/100":      "1771758bf00be6a06042a7491905e62586caa1e01f36d552d16ba082671571c6",
	"kappa/min/300":      "6d57540c7cd4333cd1e9fdcc4966b0ca8ca6f084f323e0882a2a792716dc8645",
	"kappa/min/2000":     "c2233a8eadb9da58a23e72df86fc15113393c36c63981ac9743692c000dc0aa8",
	"kappa/max/3":        "11305e2f151755c680aaeb0826d7559ee215ef03df14fdcd70f0e7fca8eb63e5",
	"kappa/max/5":        "ae71453a3b3e425f67dda6d2c4b12464933103a2a20c1968d7db056f960941d7",
	"kappa/max/8":        "5658a3ad2def892afe0ccf45f4ae3147d65242070ab2d8e8cf0a1a573ceb0411",
	"kappa/max/12":       "92c80da3e37847c097e2f1c6799e4215458fa68246b090185b88b86b17c57ecf",
	"kappa/max/20":       "3ba1b6c86edd4a4261b9aa984ca43ead24e4347e60c9b4beb32e20cefaeb0d8f",
	"kappa/max/32":       "5d85a77e3bf09b86e22111c5c3331e9ceaccd457efc258035621cc9d3ab24de8",
	"kappa/max/33":       "8a3a38bf516aa8eff6d90be8ecc94cca97ec4247b801ac97e4f1d087ec4f1258",
	"kappa/max/64":       "e80e5f7b8e344efb68bac0d9c64c87cb3f762de768e9a1cacc76f7c6c25cab79",
	"kappa/max/65":       "aa5196279a6a5f66a677cdf7fdef668f9786d1fdad2d3095cc18291bfe090a1a",
	"kappa/max/100":      "427b7be6330171b1d3c78d6c97d38cbdf56503a1a4c63caee0f25d99c573143a",
	"kappa/max/300":      "b5c369f7a35580cd31a4745bc34f0c70f586bc2a6de90dba1a9664221f749a29",
	"kappa/max/2000":     "15901fd60a83f160bc60e359e3f0c7d2b3496d23de82430ba613a0499228d730",
	"linear/mean/3":      "3d6109ed1533189f773b05ac27fad630685e70887b15615a67d2a210968aa1ff",
	"linear/mean/5":      "5be111b82f0555b5844d1e625fc0776aac8c45ffb6c0a66e585deb088b8810b6",
	"linear/mean/8":      "312ef0fa09547dd323827f7d66d00f96b9e2c6294353f5209d1619d12f35047a",
	"linear/mean/12":     "5197127d87f5316e4bf22486572ecd7d408ed73aba7a83807d94b2f06caf9dc8",
	"linear/mean/20":     "e394e1c1b1ee883e49919eeb8dca5b81e94f157be4aeba5dca0cef6d8b702c45",
	"linear/mean/32":     "b58a5f07389c243fdf1f98b83bb3c9ab06aa7e15f53ed31ec515a0394452a444",
	"linear/mean/33":     "109fbb0649e3b4e51cb494df1eb28ac02baffd70aa83ee07864672016004daaf",
	"linear/mean/64":     "8a4d471715fdcae8a2e9b6f3217482fa7aef6f858fc002f92f5aad87394f2d57",
	"linear/mean/65":     "5dff1f0b8e689ba3bcb4205973cff94da153af145f5f205b2a04c8cd63e432c7",
	"linear/mean/100":    "e0eab5b5c74cc3811247c29d4881baa77b1c957d91d725288e5ef6482f68b66d",
	"linear/mean/300":    "3876449c9c736d2199afbedb1a2fa04271c7a07a281cbbcc0839361d32193294",
	"linear/mean/2000":   "94850437939d0c72fe4d8255ccd22030c4f90cdc9430f8a8e5e387e04c3a1801",
	"linear/median/3":    "2a7eb506d58ef541a40398adc4b7d56bd0fd66ebc08853d377d1768e25aa4079",
	"linear/median/5":    "03a2f1a1df96ea2ecb5d4d0a7a8f5a764e0cda934a88bf13b4c499b9a78229c5",
	"linear/median/8":    "7bfc5899b12466820d31d63f128fc8adef8f95609c75e3f608f3a105da73a4db",
	"linear/median/12":   "97e265459770a6aad268a9ccb4b28c712b1e72e6a064f486614251f46e661423",
	"linear/median/20":   "a3135ed1026b5abe87bff110fb60a177702e5b6e8347001342c1ad9c246b5a7e",
	"linear/median/32":   "6f61da684e209ff61eceea14d5d4e7e56926a3f2a9df9cc46a7410fdf25657fd",
	"linear/median/33":   "6b8bc1d08fb0a9763ff4138b072542cf6f98f0b1539d69db7d201912a61dd923",
	"linear/median/64":   "36ef84abea522156ef58bad9fe095607e1ed3da95cf2470cbd1f073b1b5ecfbf",
	"linear/median/65":   "ad4d353d23a513d874e44018549eb0fea54a42dbb6294ba179974227c7d314f3",
	"linear/median/100":  "c391f205fa527e86cbaf7d764f62bf9edc529358f6a97bac3be4557bcd0fd356",
	"linear/median/300":  "323ced45249257100a52e69fb08426bfa8865c36d77b64392e5769e75c0d1d9d",
	"linear/median/2000": "096963d3dac01b0161e48206df875624280fe6d5452a01481a8766c80eb417b5",
	"linear/min/3":       "878a135d4bc36cb02377d6b155f47c32e2fe582f77d9cb8cb2361db130b68641",
	"linear/min/5":       "e41d6f41b7f03e68d518b156871927e0ea1dbdf3558284f733868fa6d2fb4ba4",
	"linear/min/8":       "3e327ea05c088114eb931d14eecb53f672657ec3a0ed4fa8bd8f724c1398240a",
	"linear/min/12":      "f6b9a02b42bc2afcab13cd97ae3728f03422863a039373aaf2c0d668c498c7d4",
	"linear/min/20":      "fb125dc930e49a4dfc39f686f2e9f74c92b1661e5517938ce75751805c5d84d7",
	"linear/min/32":      "fe354b3f7a600be2b86a12946554336afba901a2f9df3fdb9e9f8ee731a17cc6",
	"linear/min/33":      "b6d91136d097bf014a74c29dd78d1906f4980f145a321dfe66f21d98e1dd3b4c",
	"linear/min/64":      "dff2c47f4d016f3dd99689aa348ff63437d0b57c2c8a0039cd78dc0711157a7a",
	"linear/min/65":      "36763bebe08b62d135d077e54cb8d918543d4aa1d69932e7043d61da3f2b6102",
	"linear/min/100":     "fbb7c7aed34c185b37b05256cdbf43ca895dfd717082d81234fc9e72bf36cdbf",
	"linear/min/300":     "f26d60c8aac2ea8b5da5cf0e23bf31395689aef3cbb7459a76cbbe4dd8448fb7",
	"linear/min/2000":    "4b5744665f66c7a2eb6f7c4e3213ccb2e14cf5076548e2b7ff3ebe16079d1905",
	"linear/max/3":       "11305e2f151755c680aaeb0826d7559ee215ef03df14fdcd70f0e7fca8eb63e5",
	"linear/max/5":       "ae71453a3b3e425f67dda6d2c4b12464933103a2a20c1968d7db056f960941d7",
	"linear/max/8":       "f8249ce83c90bea4007c54072b286ba81bdc11df7d08e60c79637d6aeb067b7d",
	"linear/max/12":      "0dd2b824e6bd340bcf2696fe179e3983134c76d9142de020b6491a40d524f7ef",
	"linear/max/20":      "26d63a47e9a296e2ae420a53abae9fdfd8ee8f76a268b81ccd27fa0474100f18",
	"linear/max/32":      "23b424370b584710f9909cb78bdec2c8fc661bba0d43241aca5ef007f01fd722",
	"linear/max/33":      "3d69076ad35f6dfa44c57dd2c4d23df3269427c7fb7b5e88db52cbd6795246de",
	"linear/max/64":      "09fd0fd8839ffd578550ba9a4073b6c4ba6649c205c5f5b503973b8e3b513240",
	"linear/max/65":      "96344de91f9c365879f03782db6f070b006826a48a4f5c728f54edffac3b032b",
	"linear/max/100":     "a88eb1b1f7d6ee88e89c04a10745e8f73935272e152fcd58111d1422098fca5b",
	"linear/max/300":     "622022a92af7d6d4c27b1afdc5a198c8abb39584742e31b4a43fbd33b047558f",
	"linear/max/2000":    "19a6ebc54beaf9c55384bbe14ec353af0d04af9e9a84f5fd246f4065a129f860",
	"none/mean/3":        "3d6109ed1533189f773b05ac27fad630685e70887b15615a67d2a210968aa1ff",
	"none/mean/5":        "5be111b82f0555b5844d1e625fc0776aac8c45ffb6c0a66e585deb088b8810b6",
	"none/mean/8":        "ebc58ea7527531f011c0a74511b156721a97890d9f8ba1085622fc0f540a4415",
	"none/mean/12":       "09bdc73a245c1eb21be91ad839c3ecad2a3956bfc04d1abb6e67b3a095866138",
	"none/mean/20":       "1315ed968c3379f630e1c18001d10a9911330140244474277f0f9b727676dfe6",
	"none/mean/32":       "dec46928cbefdf9d7b999cc3c642442c0b11c874817a28095bbd466ff0cc21ed",
	"none/mean/33":       "75cf30fd6c24975f9af9c9f190a69edd3f554635c949bc54fbcb0510b725ee20",
	"none/mean/64":       "1a0851d0ad0bf4b778cfa9ed608cba6c0e6530331fa62db4eb896720b7af4ff8",
	"none/mean/65":       "1916aa0252e244f55ca93c3228e915a81759bb98d60dccf513dc73dd782281af",
	"none/mean/100":      "4df3ec6a35d8733af26662488610113e5ec09110c26cd8c9b577c329e6a06a30",
	"none/mean/300":      "4813369b3445af488ed18e6abccc2f291ac2170072112519c7d8729a2dcd4e65",
	"none/mean/2000":     "c9ce5db1627cf20f2dad5099f1c6ef7e2b489e5d717722610defb8da3896a532",
	"none/median/3":      "2a7eb506d58ef541a40398adc4b7d56bd0fd66ebc08853d377d1768e25aa4079",
	"none/median/5":      "03a2f1a1df96ea2ecb5d4d0a7a8f5a764e0cda934a88bf13b4c499b9a78229c5",
	"none/median/8":      "068cb4d5d5ad753f9eb1ba011fa69e8da4aaa313a43a4aa8be67723425ee18b7",
	"none/median/12":     "1b4aaa4bb5d20341b126cb62d87cb136593cca91c3352188c667df2967c88408",
	"none/median/20":     "d100f776d5ba0a11d7495a9029ad98d0c829a488378060b615ee99f8bf7c94ab",
	"none/median/32":     "a22b7df0dcc416ee34570a230636e88189aedbfe3f710d68eeba26ee1c23634e",
	"none/median/33":     "bea8b0a5a40b5f68d43fdb31e03739d083d647f9db55cbd1a2dfac6da6fb8794",
	"none/median/64":     "ba0badb2e2aad4a86c6047199a51218ebe717af4a2497923a12d2bf2bf36993f",
	"none/median/65":     "98f319f3b09c99a054f10cd8c601ac0794651455cb91838affd55e7596c47312",
	"none/median/100":    "e31f491a3fbb2d394b78e04f31d7b469780165d4e6555364ee747156c598b653",
	"none/median/300":    "e534b18ccacfc8e19143853ce31b4719508a43202052c1ce85f45cf2f238fa8d",
	"none/median/2000":   "e52eb1696e3dd8977c721b782dd5dc73cfd2cec268dbd306c94ec8ac4324fc1e",
	"none/min/3":         "878a135d4bc36cb02377d6b155f47c32e2fe582f77d9cb8cb2361db130b68641",
	"none/min/5":         "e41d6f41b7f03e68d518b156871927e0ea1dbdf3558284f733868fa6d2fb4ba4",
	"none/min/8":         "168c7675d38bfee611db6d7d2b626dedaa26935aa56b059009637478632d0deb",
	"none/min/12":        "af0ff9d9df6f44e55a70f36c55c75d61a4375b23b4b028f2e661161588258dea",
	"none/min/20":        "ea2dfc16e39e6d2f92922b8793ac73435490f68712bee87b7e815c35d0263e48",
	"none/min/32":        "782ff92ace330a735181676bb3bd1fa8a3624a42f64179c8bc06b9023aaaa839",
	"none/min/33":        "38f83bedeb3147f64b0c187d4ffba387540c5378b357919a7d6300d9d55b6802",
	"none/min/64":        "859d738e01fcabc74ba083435949ac366658c7a9a8d91fc6ad8e09ad86051d67",
	"none/min/65":        "b5b5a5049ebcc2902496e62b8b567761fc035901ff1e4faf2364a741f506845d",
	"none/min/100":       "f3d27de2e3bd272d9ef674a7aebad91cc5ac497943dcbb5828d7288b57fce66d",
	"none/min/300":       "2270490f53400804b013e24ec4e0d8029a4d6d32e610817c560c8cbfd67f410e",
	"none/min/2000":      "b59ec7cfc008144f6580c5a7c3db92d21c68030b3700120ee95d89471925042d",
	"none/max/3":         "11305e2f151755c680aaeb0826d7559ee215ef03df14fdcd70f0e7fca8eb63e5",
	"none/max/5":         "ae71453a3b3e425f67dda6d2c4b12464933103a2a20c1968d7db056f960941d7",
	"none/max/8":         "12772297710c9f9bb5c8b742f961e488ba248ed28339a02987937b732a70a24b",
	"none/max/12":        "a2e65a63fbe07467a39f0c63f6d8ee34528141e7caa76cd90f6a51d306feace5",
	"none/max/20":        "3b02d7aca7121cffb2e1990f886260c66e4e713ea74327753b5b01b447cd56dc",
	"none/max/32":        "a2f518a901fefac6e2305bbfb7278a200ec9b65acef66abd9ba498e138bdee5c",
	"none/max/33":        "f96f78f23435ac79f36c8ee4f733fb35ee95157dcd42d80eb80747ad6074a60c",
	"none/max/64":        "5a6af58e7ae6d9523869fea9d082add30ee59c291b4d0c007fcb9c32591124de",
	"none/max/65":        "ddb70ff919a7edab5da5d0b22818f158599eb6c90a65bce96efcaeea23acbaa3",
	"none/max/100":       "953b441546d84132cafa2b2da3234c2266c27a605c68fa1be36aee1780a59ded",
	"none/max/300":       "d28daf4dd3d996a0ee6c3404efc55d7e114009c62fa1b11e00765df8ffdab409",
	"none/max/2000":      "4d487e76628e5dd5df925c869d03957fd190ad06ccec9bc630550c804c7feffa",
}
