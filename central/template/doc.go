// Package template turns a notice into the text each channel sends:
// KakaoTalk and Naver AlimTalk, Toss push, and SMS or LMS.
//
// The templates are TOML files, one per notification type, named for its
// id (assets/templates/traffic-fine.toml), with a table per channel:
//
//	[sms]
//	title = "[알리미] 교통 범칙금 부과 안내"
//	body  = "[알리미] {{name}}님 교통범칙금 {{amount}}원 납부기한 {{dueDate}} {{link}}"
//
// A kakao or naver table also has code, the provider's template code. A
// variable is written {{name}} (spaces inside the braces are ignored); it
// is one of allimi.CommonParams or of the type's allimi.TypeInfo.Params.
// AlimTalk's own "#{name}" is refused: the provider would fill it in again.
// Every body has {{link}}. A title is fixed text: it is registered with an
// AlimTalk template, so it cannot vary.
//
// Those tables are Korean. Another language of the kiosk (allimi.Languages)
// adds its own to the same file, [en.kakao], [en.naver], [en.toss],
// [en.sms] …, each optional and checked as the Korean ones are, each
// kakao and naver one with its own code. RenderIn renders a recipient's
// notice in their language, template by template falling back to Korean:
// an SMS in Thai, which EUC-KR cannot carry, has no table and goes in
// Korean. A Variant is Korean only.
//
// Load checks everything once (each type, each channel, each variable, the
// limits) and splits each body into literal text and variables, so that
// Render, called once per delivery, only looks values up and copies
// strings: no parsing and no regular expressions.
//
// Limits, in characters (code points) for the apps and in EUC-KR bytes for
// SMS and LMS:
//
//   - AlimTalk (kakao, naver): body 1,000 characters, title 50.
//   - Toss push: body 1,000 characters, title 50. Toss gives us no figure to
//     design against; these are ours, the same as AlimTalk, so that one
//     notice reads the same in every app.
//   - SMS: 90 bytes, no title. Longer renderings go as LMS: 2,000 bytes and
//     a subject of at most 40 bytes (a longer title is cut at load).
//
// See EUCKRLen for how characters outside EUC-KR are counted and sent.
package template
