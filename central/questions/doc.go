// Package questions carries officials' answers to the people who asked at
// a kiosk, on the channel each chose (falling back to SMS/LMS), each sent
// once, and deletes the recordings of questions under the retention
// policy. The questions themselves are kept by an allimi.Questions store;
// officials read and answer them through central/api.
package questions
