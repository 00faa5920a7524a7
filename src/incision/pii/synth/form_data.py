"""The forms: one field a line, `Key/Other key=value template`; the first `keep` fields always appear.

Training and the shifted split use different forms (and `forms.LAYOUTS` gives them different layouts).
"""

from .forms import form

EN_FORMS = {
    "contact": form(
        """
        Name/Full name/Your name={name}
        Email/E-mail/Email address={email}
        Phone/Phone number/Tel/Contact number={phone}
        Order number/Order #/Order ID={order}
        Subject/Topic/Reason for contact=[Delivery|Return|Damaged item|Billing question|Other]
        Message/Comments/Details={msg}
        """,
        headers=("", "Contact form submission", "New message from website"),
    ),
    "address_change": form(
        """
        Name={name}
        New address/New shipping address={addr}
        Old address/Previous address={addr}
        Phone={phone}
        Order #={order}
        Customer since={olddate}
        Delivery instructions=[Leave at door|Ring bell twice|Leave with front desk|Do not leave unattended]
        """
    ),
    "register": form(
        """
        First name={first}
        Last name={last}
        Email={email}
        Date of birth/DOB/Birthday={dob}
        Phone/Mobile={phone}
        ZIP/ZIP code/Postal code={zip}
        Street address/Address={addr}
        Newsletter=[yes|no|Yes please]
        Password=********
        How did you hear about us?=[Instagram|a friend|Google|TV ad]
        """,
        keep=3,
    ),
    "return": form(
        """
        Order number={order}
        Item/SKU={sku}
        Reason=[Too small|Too big|Defective|Changed my mind|Wrong item sent|Arrived late]
        Refund method=[Original payment|Store credit|Exchange]
        Name={name}
        Email={email}
        Condition=[Unopened|Opened, unused|Used]
        Purchase date={date}
        """,
        headers=("", "RETURN REQUEST"),
    ),
    "refund_bank": form(
        """
        Account holder/Name on account={name}
        Account number/Acct #={acct}
        Bank/Bank name={bank}
        Routing number/ABA={routing}
        Account type=[Checking|Savings]
        Refund amount={price}
        Order={order}
        Email={email}
        """
    ),
    "refund_iban": form(
        """
        Account holder={name}
        IBAN={iban}
        BIC/SWIFT={swift}
        Bank={bank}
        Reference={order}
        Amount={price}
        """
    ),
    "payment": form(
        """
        Cardholder name/Name on card={card_holder}
        Card number/Card #/Credit card={card}
        Expiry/Exp. date/Expiration={exp}
        CVV/Security code=***
        Billing ZIP={zip}
        Billing address={addr}
        Amount={price}
        """
    ),
    "identity": form(
        """
        Full name/Legal name={name}
        Date of birth/DOB={dob}
        SSN/Social Security number={ssn}
        Driver's license #/DL number={dl}
        Passport number/Passport No.={passport}
        Address/Residential address={addr}
        Phone={phone}
        """,
        headers=("", "Identity verification"),
    ),
    "b2b_quote": form(
        """
        Company/Company name={biz}
        Contact name/Contact={name}
        Title/Job title={title}
        Phone/Office phone={tel}
        Fax={fax}
        Email={email}
        Company address={addr}
        Quantity={qty}
        Item/SKU={sku}
        Needed by={date}
        """,
        headers=("", "Quote request"),
    ),
    "gift": form(
        """
        Recipient name={name2}
        Recipient address/Ship to={addr}
        Recipient phone={phone2}
        Gift message=[Happy birthday!|Congrats on the new home!|Merry Christmas, love you|Thinking of you]
        Sender name/From={name}
        Sender email={email}
        Delivery date={date}
        """
    ),
}
EN_FORMS_SHIFTED = {
    "warranty": form(
        """
        Owner name={name}
        Serial number={model}
        Purchase date={date}
        Retailer={company}
        Email={email}
        Phone={phone}
        Mailing address={addr_block}
        """,
        headers=("", "Warranty registration"),
    ),
    "ticket_export": form(
        """
        ticket_id={ticket}
        customer={name}
        email={email}
        phone={phone}
        priority=[low|normal|high]
        channel=[email|chat|phone]
        subject=[late delivery|refund|address change]
        """
    ),
    "install_booking": form(
        """
        Customer={name}
        Service address={addr}
        Preferred date={date}
        Time window={timewin}
        Contact={phone}
        Gate code=[#1234|#4590|none]
        """
    ),
    "age_check": form(
        """
        Name={name}
        Date of birth={dob}
        ID type=[Driver's license|Passport|State ID]
        ID number={govid}
        ID expires={date}
        """
    ),
    "payout": form(
        """
        Payee={name}
        Account={acct}
        Bank={bank}
        Routing={routing}
        IBAN={iban}
        Tax ID (SSN)={ssn}
        """,
        headers=("", "Seller payout details"),
    ),
}
JA_FORMS = {
    "contact": form(
        """
        お名前/氏名/ご氏名={name}
        メールアドレス/メール/E-mail={email}
        フリガナ/お名前（カナ）/ふりがな={kana}
        電話番号/お電話番号/TEL/携帯番号={phone}
        注文番号/ご注文番号={order}
        お問い合わせ種別/お問い合わせ項目=[配送について|返品・交換|お支払いについて|商品について|その他]
        お問い合わせ内容/内容/ご用件={msg}
        """,
        headers=("", "お問い合わせフォームより送信されました", "【お問い合わせ】"),
    ),
    "address_change": form(
        """
        氏名={name}
        新住所/変更後のご住所={addr}
        旧住所/変更前のご住所={addr}
        郵便番号={zip_plain}
        電話番号={phone}
        会員番号={member}
        入会日={olddate}
        """,
        headers=("", "住所変更のお願い"),
    ),
    "register": form(
        """
        お名前={name}
        フリガナ={kana}
        メールアドレス={email}
        生年月日={dob}
        性別=[男性|女性|回答しない]
        郵便番号={zip_plain}
        ご住所/住所={addr}
        電話番号={phone}
        メルマガ配信=[希望する|希望しない]
        パスワード=********
        """,
        keep=3,
    ),
    "refund_account": form(
        """
        銀行名/金融機関名={bank}
        口座番号={acct}
        支店名={branch}
        支店番号/店番={branch_no}
        口座種別/預金種目=[普通|普通預金|当座]
        口座名義/口座名義（カナ）/名義人={kana}
        ご注文番号={order}
        返金額={price}
        """,
        headers=("", "返金先口座"),
    ),
    "yucho": form(
        """
        記号番号/ゆうちょ記号番号={yucho}
        口座名義={kana}
        お名前={name}
        電話番号={phone}
        """
    ),
    "card": form(
        """
        カード番号={card}
        カード名義/名義人={card_holder}
        有効期限={exp}
        セキュリティコード=***
        支払回数=[一括|3回|分割]
        """
    ),
    "identity": form(
        """
        氏名={name}
        生年月日={dob}
        マイナンバー/個人番号={mynumber}
        運転免許証番号/免許証番号={license}
        旅券番号/パスポート番号={passport}
        現住所/住所={addr}
        電話番号={phone}
        """,
        headers=("", "本人確認書類"),
    ),
    "b2b": form(
        """
        会社名/貴社名={biz}
        ご担当者名/担当者={name}
        部署名={dept}
        役職={title}
        電話番号/TEL={tel}
        FAX={fax}
        メールアドレス={email}
        所在地/ご住所={addr}
        ご希望数量={qty}
        品番={sku}
        納品希望日={date}
        """,
        headers=("", "お見積り依頼"),
    ),
    "delivery": form(
        """
        お届け先氏名/お届け先名={name2}
        お届け先住所={addr_block}
        お届け先電話番号={phone2}
        配達希望日={date}
        配達時間帯={timewin}
        ご依頼主={name}
        のし=[不要|御祝|御礼|内祝]
        """
    ),
}
JA_FORMS_SHIFTED = {
    "survey": form(
        """
        ご年齢={age}
        ご購入店舗={store}
        満足度=[とても満足|満足|普通|不満]
        ご意見=[また利用します。|配送が遅かったです。|梱包が丁寧でした。]
        お名前（任意）={name}
        メールアドレス（任意）={email}
        """,
        headers=("", "アンケート回答"),
    ),
    "reservation": form(
        """
        予約者名={name}
        カナ={kana}
        来店日={date}
        時間={time}
        人数=[2名|4名|1名]
        連絡先={phone}
        """
    ),
    "tax_free": form(
        """
        氏名（ローマ字）={en_name}
        旅券番号={en_passport}
        国籍=[アメリカ|中国|韓国|台湾|フランス]
        生年月日={dob}
        購入金額={price}
        """,
        headers=("", "免税手続き"),
    ),
    "payout": form(
        """
        振込先銀行={bank}
        口座番号={acct}
        支店={branch}
        名義={kana}
        個人番号={mynumber}
        """,
        headers=("", "売上金の振込申請"),
    ),
    "order_sheet": form(
        """
        ご注文者={name}
        ご住所={addr}
        電話={phone}
        メール={email}
        お支払い=[代引き|カード|銀行振込]
        商品={item}
        """
    ),
}
