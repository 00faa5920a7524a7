"""More Japanese training styles, from other channels than a customer's e-mail: a shop's replies that
address the customer (様), social-media posts to a brand, voicemail (留守電) transcripts, and account and
identity requests with terse cue words. None of them is used by the shifted split."""

TRAIN = {
    "agent": [
        "{sei}様\n\nこの度はお問い合わせいただき、誠にありがとうございます。\n{shop}カスタマーサポートの"
        "{staff}でございます。\nご注文（{order}）のお届け先を「{addr}」に変更いたしました。",
        "{name}様\n\nご返品の商品を{date}に受領いたしました。{price}を{bank}の口座（普通 {acct}）へ"
        "ご返金いたします。",
        "{sei}様、{phone}へお電話いたしましたが、お繋がりにならなかったため、メールにてご連絡いたします。",
        "{sei}様\nご本人確認のため、ご登録の生年月日（{dob}）を確認させていただきました。",
        "{name}様\n修理のご訪問日が{date}の{timewin}に確定しました。担当の{staff}より、当日{phone}へ"
        "ご連絡いたします。",
        "{mei}様\nいつもご利用ありがとうございます。ご依頼いただいた{item}の在庫が確保できました。"
        "\n{shop} {staff}",
        "{sei}様\nメールアドレスを{email}に変更いたしました。旧アドレス（{email2}）への配信は停止されます。",
        "{shop}の{staff}です。{day}の配送について、{kin2}の{name2}様にお渡しすることで承りました。",
        "{sei}様\nこの度はご迷惑をおかけし申し訳ございません。お問い合わせ番号{ticket}にて対応いたします。",
        "いつも{shop}をご利用いただきありがとうございます。ご注文{order}は{day}に発送予定です。",
        "お問い合わせありがとうございます。担当部署に確認のうえ、{day}中にご連絡いたします。",
    ],
    "sns": [
        "@{handle} 注文{order}まだ届かないんだけど…😭",
        "@{handle} DMしました！名前は{name}です",
        "@{handle} 電話つながらないので折り返しください {phone}",
        "@{handle} 住所DMで送りました。{addr}です、よろしくお願いします🙏",
        "@{handle} {item}届きました〜！最高✨",
        "@{handle} 返金まだですか？メールは{email}です",
        "{sei}です、DM見てください！注文番号{order}",
        "@{handle} {celeb}が使ってたやつってこれですか？",
        "@{handle} お問い合わせ番号{ticket}の件どうなりました？",
    ],
    "rusuden": [
        "もしもし、{name}と申します。注文の件でお電話しました。{phone}まで折り返しお願いします。",
        "あ、もしもし、{sei}です。えっと、配達の件なんですけど、住所が{addr}で、部屋番号が抜けてたみたいで…"
        "またかけ直します。",
        "【留守番電話】{name}様より：生年月日{dob}、本人確認の件で折り返し希望。連絡先{phone}。",
        "お世話になっております、{biz}の{name}です。見積もりの件でお電話しました。{tel}までお願いします。",
        "{kin2}の代わりにお電話しました。{name2}の件です。電話番号は{phone2}です。",
        "もしもし、{sei}ですけど、カード番号を言えばいいんですよね、{card}です。",
        "もしもし、{date}に注文した{item}の件でお電話しました。また{day}にかけ直します。",
    ],
    "account": [
        "登録情報の変更をお願いします。電話：{phone} → {phone2}、メール：{email}",
        "ログインできません。ID（メール）{email}、生年月日{dob}です。",
        "[携帯|TEL|電話|☎|連絡先|ケータイ] {phone}",
        "[免許証番号|免許|運転免許証] {license}",
        "[マイナンバー|個人番号|マイナ] {mynumber}",
        "[パスポート番号|旅券番号|パスポート] {passport}、[生年月日|誕生日] {dob}",
        "退会したいです。登録名{name}、メール{email}です。個人情報も削除してください。",
        "家族会員に{kin2}（{name2}、[生年月日|誕生日] {dob}）を追加したいです。",
        "会員登録の名前の漢字が違います。正しくは{name}です。",
        "本人確認：{name}／{dob}生／{addr}",
        "返金先を変更します。{bank} {branch} 普通 {acct}",
        "ゆうちょの口座に返金してください。{yucho}",
        "ログインできません。パスワードを{time}に再設定しましたが、メールが届きません。",
        "ポイント{points}の有効期限は{date}までですか？",
    ],
}
