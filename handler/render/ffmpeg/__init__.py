"""ffmpeg: encoding chunks, mixing the plan's audio, joining chunks into the output."""
