import { sniffDocument } from './document-types';
import { extractText, normalise, ParseError } from './parse';

describe('document types and parsing', () => {
  it('sniffs by content first, then by name', async () => {
    expect(await sniffDocument('a.txt', Buffer.from('hello'))).toBe('txt');
    expect(await sniffDocument('a.MD', Buffer.from('# Title'))).toBe('md');
    expect(await sniffDocument('a.pdf', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'))).toBe('pdf');
    // A PNG renamed .txt, a "PDF" that is text, an unknown extension, binary noise.
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    expect(await sniffDocument('a.txt', png)).toBeNull();
    expect(await sniffDocument('a.pdf', Buffer.from('not a pdf'))).toBeNull();
    expect(await sniffDocument('a.exe', Buffer.from('hello'))).toBeNull();
    expect(await sniffDocument('a.txt', Buffer.from([0x68, 0x00, 0x69]))).toBeNull();
    expect(await sniffDocument('a.txt', Buffer.from([0xff, 0xfe, 0x41]))).toBeNull();
  });

  it('normalises whitespace and Unicode (NFC)', () => {
    expect(normalise('  Cafe\u0301 \t\u00a0bar\r\n\r\n\r\n\r\nnext  ')).toBe('Café bar\n\nnext');
  });

  it('extracts text from html, json and csv', async () => {
    expect(
      await extractText('html', Buffer.from('<h1>Title</h1><p>Body <b>text</b></p><script>x()</script>')),
    ).toMatch(/TITLE\n*Body text/);
    expect(await extractText('json', Buffer.from('{"a":{"b":[1,"two"]}}'))).toBe('a.b[0]: 1\na.b[1]: two');
    expect(await extractText('csv', Buffer.from('name,skill\nAda,math\nGrace,cobol\n'))).toBe(
      'name: Ada\nskill: math\n\nname: Grace\nskill: cobol',
    );
  });

  it('fails cleanly on a broken file', async () => {
    await expect(extractText('json', Buffer.from('{broken'))).rejects.toBeInstanceOf(ParseError);
    await expect(extractText('pdf', Buffer.from('%PDF-1.7 garbage'))).rejects.toBeInstanceOf(ParseError);
  });
});
