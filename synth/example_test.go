package synth_test

import (
	"fmt"

	"github.com/zmosaic/zmosaic/synth"
)

func ExampleGenerateFrame() {
	o := synth.DefaultOptions()
	o.Width, o.Height = 64, 48
	f, err := synth.GenerateFrame(o, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	date, _ := f.Value("DATE-OBS")
	fmt.Println(f.Name, f.Width, f.Height, date)
	// Output: frame_0003.fits 64 48 2024-01-15T21:00:20.000
}
